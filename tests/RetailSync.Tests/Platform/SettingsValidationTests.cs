using Microsoft.Extensions.Options;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Platform;

/// <summary>Settings are checked when the host starts: a bad one stops it, naming the setting.</summary>
public sealed class SettingsValidationTests
{
    [Theory]
    [InlineData("--RetailSync:Inventory:Oversell=exception", "RetailSync:Inventory: Oversell")]
    [InlineData("--RetailSync:Outbound:MaxAttempts=0", "RetailSync:Outbound: MaxAttempts")]
    [InlineData("--RetailSync:Outbound:RetryBaseDelay=00:00:00", "RetailSync:Outbound: RetryBaseDelay")]
    [InlineData("--RetailSync:Refunds:Deadline=-00:00:01", "RetailSync:Refunds: Deadline")]
    public async Task a_host_with_a_setting_that_makes_no_sense_does_not_start(string setting, string named)
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var host = await InProcessHost.StartEmbeddedAsync(setting);
        });

        Assert.Contains(failure.Failures, f => f.StartsWith(named, StringComparison.Ordinal));
    }

    [Fact]
    public async Task the_documented_oversell_modes_start()
    {
        await using var host = await InProcessHost.StartEmbeddedAsync("--RetailSync:Inventory:Oversell=Exception");
        Assert.NotNull(host.App.Services.GetRequiredService<IOptions<RetailSync.Inventory.InventoryOptions>>().Value);
    }
}
