using Orleans.Patterns.Storage;

namespace Orleans.Patterns.Tests.Storage;

[Trait("Category", "Unit")]
public sealed class FileGrainStorageOptionsTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("  ")]
    public void Missing_root_directory_is_rejected_naming_provider_and_option(string? root)
    {
        var validator = new FileGrainStorageOptionsValidator(new FileGrainStorageOptions { RootDirectory = root }, "durable");

        var e = Assert.Throws<OrleansConfigurationException>(validator.ValidateConfiguration);

        Assert.Contains("'durable'", e.Message);
        Assert.Contains(nameof(FileGrainStorageOptions.RootDirectory), e.Message);
    }

    [Fact]
    public void Set_root_directory_is_accepted()
    {
        var validator = new FileGrainStorageOptionsValidator(new FileGrainStorageOptions { RootDirectory = Path.GetTempPath() }, "durable");

        validator.ValidateConfiguration();
    }
}
