using System.ComponentModel;
using Microsoft.Extensions.Configuration;
using Orleans.Patterns.Silo.Configuration;

namespace Orleans.Patterns.Tests.Configuration;

[Trait("Category", "Unit")]
public sealed class DurationTests
{
    [Theory]
    [InlineData("3s", 3_000)]
    [InlineData("250ms", 250)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData("1h30m15s500ms", 5_415_500)]
    [InlineData(" 3s ", 3_000)]
    [InlineData("-3s", -3_000)]
    [InlineData("0s", 0)]
    [InlineData("00:00:03", 3_000)]
    [InlineData("1.02:03:04.5", 93_784_500)]
    public void Parses_unit_and_timespan_forms(string text, long milliseconds)
    {
        Assert.True(Duration.TryParse(text, out var parsed));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), parsed);
        Assert.Equal(parsed, Duration.Parse(text));
    }

    [Theory]
    [InlineData("3 parsecs")]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("-")]
    [InlineData("3x")]
    [InlineData("3S")]
    [InlineData("30s1m")]
    [InlineData("1s1s")]
    [InlineData("1.2.3s")]
    [InlineData("1e3s")]
    [InlineData("3 s")]
    [InlineData("99999999999999999999d")]
    public void Rejects_malformed_durations(string text)
    {
        Assert.False(Duration.TryParse(text, out _));
        Assert.Throws<FormatException>(() => Duration.Parse(text));
    }

    [Fact]
    public void Parse_error_quotes_the_value()
    {
        var error = Assert.Throws<FormatException>(() => Duration.Parse("3 parsecs"));

        Assert.StartsWith("'3 parsecs' is not a valid duration", error.Message);
    }

    [Theory]
    [InlineData(3_000, "3s")]
    [InlineData(90_000, "1m30s")]
    [InlineData(250, "250ms")]
    [InlineData(1_500, "1s500ms")]
    [InlineData(93_600_000, "1d2h")]
    [InlineData(-3_000, "-3s")]
    [InlineData(0, "0s")]
    [InlineData(0.5, "0.5ms")]
    public void Formats_in_unit_form_and_round_trips(double milliseconds, string expected)
    {
        var value = TimeSpan.FromMilliseconds(milliseconds);

        Assert.Equal(expected, Duration.Format(value));
        Assert.Equal(value, Duration.Parse(expected));
    }

    [Fact]
    public void Binder_converts_timespans_through_the_registered_type_converter()
    {
        DurationConverter.EnsureRegistered();
        DurationConverter.EnsureRegistered();

        // The whole route depends on ConfigurationBinder asking TypeDescriptor for the TimeSpan converter.
        Assert.IsType<DurationConverter>(TypeDescriptor.GetConverter(typeof(TimeSpan)));
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["t:plain"] = "3s",
                ["t:nullable"] = "1m30s",
                ["t:classic"] = "00:00:05",
                ["t:list:0"] = "250ms",
            })
            .Build();

        var bound = configuration.GetSection("t").Get<Timings>()!;

        Assert.Equal(TimeSpan.FromSeconds(3), bound.Plain);
        Assert.Equal(TimeSpan.FromSeconds(90), bound.Nullable);
        Assert.Equal(TimeSpan.FromSeconds(5), bound.Classic);
        Assert.Equal(new[] { TimeSpan.FromMilliseconds(250) }, bound.List);
        Assert.Equal(TimeSpan.FromSeconds(2), configuration.GetValue<TimeSpan>("missing", TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void Bad_duration_fails_binding_naming_key_and_value()
    {
        DurationConverter.EnsureRegistered();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["raft:timeout"] = "3 parsecs" })
            .Build();

        var error = Assert.Throws<InvalidOperationException>(() => configuration.GetSection("raft").Get<RaftSettings>());

        Assert.Contains("'raft:timeout'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'3 parsecs'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Converter_still_converts_timespans_to_strings()
    {
        DurationConverter.EnsureRegistered();

        var converter = TypeDescriptor.GetConverter(typeof(TimeSpan));

        Assert.Equal("00:00:03", converter.ConvertToInvariantString(TimeSpan.FromSeconds(3)));
    }

    private sealed class Timings
    {
        public TimeSpan Plain { get; set; }

        public TimeSpan? Nullable { get; set; }

        public TimeSpan Classic { get; set; }

        public List<TimeSpan> List { get; set; } = [];
    }
}
