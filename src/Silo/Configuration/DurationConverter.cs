using System.ComponentModel;
using System.Globalization;

namespace Orleans.Patterns.Silo.Configuration;

/// <summary>
/// A <see cref="TimeSpanConverter"/> that also reads <see cref="Duration"/> strings such as <c>"3s"</c>.
/// The configuration binder converts strings through <see cref="TypeDescriptor.GetConverter(Type)"/>, so
/// registering this converter lets ordinary <see cref="TimeSpan"/> option properties take "3s" from any source.
/// </summary>
internal sealed class DurationConverter : TimeSpanConverter
{
    private static readonly Lock Gate = new();
    private static bool _registered;

    /// <summary>
    /// Registers the converter for <see cref="TimeSpan"/>. TypeDescriptor is process-wide, so this is too; that is
    /// acceptable because the converter accepts everything the default one does (it only adds the unit form).
    /// Idempotent: each AddAttributes call would stack another provider, hence the flag.
    /// </summary>
    public static void EnsureRegistered()
    {
        lock (Gate)
        {
            if (_registered)
            {
                return;
            }

            TypeDescriptor.AddAttributes(typeof(TimeSpan), new TypeConverterAttribute(typeof(DurationConverter)));
            _registered = true;
        }
    }

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value)
    {
        if (value is not string text)
        {
            return base.ConvertFrom(context, culture, value);
        }

        // Duration.Parse's message quotes the value; the binder wraps it with the configuration key.
        return Duration.Parse(text);
    }
}
