using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace Orleans.Patterns.Chaos;

/// <summary>
/// Which calls chaos may touch at all, before any rule is looked at: application grain interfaces only (narrowed
/// by <see cref="ChaosOptions.ScopedInterfaces"/>), never Orleans' own grains, system targets or grain
/// extensions, and never <see cref="IChaosControlGrain"/> - healing must get through a partition.
/// </summary>
internal sealed class ChaosScope
{
    private static readonly byte[] OrleansKeyToken = typeof(IGrain).Assembly.GetName().GetPublicKeyToken() ?? [];

    private readonly string[] _scoped;

    // Per silo, not static: in-process test silos may be configured with different scopes.
    private readonly ConcurrentDictionary<Type, bool> _covered = new();

    public ChaosScope(IOptions<ChaosOptions> options) => _scoped = [.. options.Value.ScopedInterfaces];

    public bool Covers(GrainId target, MethodInfo? interfaceMethod)
    {
        // "sys." grain types are Orleans' own: system targets, grain services, management and the like.
        if (target.Type.AsSpan().StartsWith("sys."u8) || interfaceMethod?.DeclaringType is not { } type)
        {
            return false;
        }

        return Covers(type);
    }

    /// <summary>Whether calls through <paramref name="interfaceType"/> (an application grain's) may be faulted.</summary>
    public bool Covers(Type interfaceType) => _covered.GetOrAdd(interfaceType, Evaluate);

    private bool Evaluate(Type type)
    {
        if (type == typeof(IChaosControlGrain) || typeof(IGrainExtension).IsAssignableFrom(type) || IsOrleansAssembly(type.Assembly))
        {
            return false;
        }

        var name = type.FullName ?? type.Name;
        return _scoped.Length == 0 || _scoped.Any(entry => ChaosRules.InterfaceMatches(entry, name));
    }

    // Orleans' assemblies are strong-named with one key; an application's are not, or with another key.
    private static bool IsOrleansAssembly(Assembly assembly) =>
        OrleansKeyToken.Length > 0 && (assembly.GetName().GetPublicKeyToken() ?? []).AsSpan().SequenceEqual(OrleansKeyToken);
}
