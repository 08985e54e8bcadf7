namespace Orleans.Patterns.Tests.Coordination.Recipes;

/// <summary>Each recipe test works under a prefix of its own: the fixture's store outlives every test.</summary>
internal static class RecipePrefix
{
    public static string New(string name) => $"/recipes/{name}-{Guid.NewGuid():N}/";
}
