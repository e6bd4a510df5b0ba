using Microsoft.Extensions.Options;

namespace RetailSync.Tests.Infrastructure;

/// <summary>Options that never change, for a connector built by hand.</summary>
public sealed class StaticOptions<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
