namespace RetailSync.Platform;

/// <summary>
/// One vendor's request budget for the whole cluster (one activation, keyed by system): every silo
/// reserves its requests here, so together they never exceed the vendor's limit.
/// </summary>
[Alias("RetailSync.Platform.IRateBudgetGrain")]
public interface IRateBudgetGrain : IGrainWithStringKey
{
    /// <summary>
    /// Reserves the next free slot(s) at <paramref name="perSecond"/>, letting up to <paramref name="burst"/>
    /// requests go ahead of the pace after a quiet spell; returns how long to wait before sending.
    /// </summary>
    [Alias("Reserve")]
    Task<TimeSpan> ReserveAsync(int permits, double perSecond, int burst);
}
