using System.Diagnostics;

namespace RetailSync.Benchmarks;

/// <summary>
/// Sends requests at a steady rate (request n at n/rate seconds), whatever the answers' latency, with at
/// most 256 in flight: an open-loop load, as webhooks arrive, not a closed loop that slows with the server.
/// </summary>
public static class PacedSender
{
    public sealed record Outcome(int Accepted, int Refused, double Seconds);

    public static async Task<Outcome> SendAsync(HttpClient http, int count, double rate, Func<int, HttpRequestMessage> request)
    {
        var accepted = 0;
        var refused = 0;
        var clock = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(256);
        var inFlight = new List<Task>();
        for (var n = 0; n < count; n++)
        {
            var due = TimeSpan.FromSeconds(n / rate);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            await gate.WaitAsync();
            var id = n;
            inFlight.Add(Task.Run(async () =>
            {
                try
                {
                    using var response = await http.SendAsync(request(id));
                    Interlocked.Increment(ref response.IsSuccessStatusCode ? ref accepted : ref refused);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        await Task.WhenAll(inFlight);
        return new Outcome(accepted, refused, clock.Elapsed.TotalSeconds);
    }
}
