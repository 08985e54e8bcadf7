using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Orleans.Patterns.Silo.Configuration;

/// <summary>
/// Durations as the design documents write them: a sequence of <c>number unit</c> parts with units
/// <c>d</c>, <c>h</c>, <c>m</c>, <c>s</c>, <c>ms</c> in decreasing order (<c>"3s"</c>, <c>"250ms"</c>, <c>"1.5s"</c>,
/// <c>"1m30s"</c>), or the ordinary invariant <see cref="TimeSpan"/> format (<c>"00:00:03"</c>).
/// </summary>
public static class Duration
{
    // Matching order: "ms" before "m", so "250ms" is not read as 250 minutes followed by a stray "s".
    private static readonly (string Suffix, long Ticks)[] Units =
    [
        ("d", TimeSpan.TicksPerDay),
        ("h", TimeSpan.TicksPerHour),
        ("ms", TimeSpan.TicksPerMillisecond),
        ("m", TimeSpan.TicksPerMinute),
        ("s", TimeSpan.TicksPerSecond),
    ];

    /// <summary>Parses a duration, throwing a <see cref="FormatException"/> that quotes the input when it is not one.</summary>
    /// <param name="value">For example <c>"3s"</c>, <c>"1m30s"</c> or <c>"00:00:03"</c>.</param>
    /// <returns>The parsed duration.</returns>
    public static TimeSpan Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return TryParse(value, out var result)
            ? result
            : throw new FormatException(
                $"'{value}' is not a valid duration; expected e.g. \"3s\", \"250ms\", \"1.5s\", \"1m30s\" or \"00:00:03\".");
    }

    /// <summary>Parses a duration without throwing.</summary>
    /// <param name="value">For example <c>"3s"</c>, <c>"1m30s"</c> or <c>"00:00:03"</c>.</param>
    /// <param name="result">The parsed duration, or <see cref="TimeSpan.Zero"/> when parsing fails.</param>
    /// <returns><c>true</c> when <paramref name="value"/> is a valid duration.</returns>
    public static bool TryParse([NotNullWhen(true)] string? value, out TimeSpan result)
    {
        result = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        var text = value.Trim();
        return TryParseWithUnits(text, out result)
            || TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out result);
    }

    /// <summary>Formats a duration in the unit form, e.g. <c>1m30s</c> or <c>250ms</c>; <see cref="Parse"/> reads it back.</summary>
    /// <param name="value">The duration to format.</param>
    /// <returns>The shortest unit form, <c>"0s"</c> for zero.</returns>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        var text = new StringBuilder(value < TimeSpan.Zero ? "-" : string.Empty);
        // Work in decimal ticks: TimeSpan.MinValue has no positive counterpart in long.
        var remaining = Math.Abs((decimal)value.Ticks);
        foreach (var (suffix, ticks) in Units.OrderByDescending(u => u.Ticks))
        {
            var amount = ticks == TimeSpan.TicksPerMillisecond ? remaining / ticks : decimal.Floor(remaining / ticks);
            if (amount > 0)
            {
                text.Append(amount.ToString(CultureInfo.InvariantCulture)).Append(suffix);
                remaining -= amount * ticks;
            }
        }

        return text.ToString();
    }

    private static bool TryParseWithUnits(string text, out TimeSpan result)
    {
        result = TimeSpan.Zero;
        var negative = text.StartsWith('-');
        var pos = negative ? 1 : 0;
        var total = 0m;
        var previousUnitTicks = long.MaxValue;
        if (pos == text.Length)
        {
            return false;
        }

        while (pos < text.Length)
        {
            var numberStart = pos;
            while (pos < text.Length && (char.IsAsciiDigit(text[pos]) || text[pos] == '.'))
            {
                pos++;
            }

            if (!decimal.TryParse(text.AsSpan(numberStart, pos - numberStart), NumberStyles.AllowDecimalPoint,
                    CultureInfo.InvariantCulture, out var amount))
            {
                return false;
            }

            var unit = Units.FirstOrDefault(u => text.AsSpan(pos).StartsWith(u.Suffix, StringComparison.Ordinal));
            // Units must be strictly decreasing: "30s1m" and "1s1s" are typos more often than intent.
            if (unit.Suffix is null || unit.Ticks >= previousUnitTicks || amount > TimeSpan.MaxValue.Ticks / unit.Ticks)
            {
                return false;
            }

            pos += unit.Suffix.Length;
            previousUnitTicks = unit.Ticks;
            total += amount * unit.Ticks;
            if (total > TimeSpan.MaxValue.Ticks)
            {
                return false;
            }
        }

        var ticks = (long)decimal.Round(total, MidpointRounding.AwayFromZero);
        result = TimeSpan.FromTicks(negative ? -ticks : ticks);
        return true;
    }
}
