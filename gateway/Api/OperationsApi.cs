using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using RetailSync.Gateway.Webhooks;
using RetailSync.Operations;
using RetailSync.Orders;

namespace RetailSync.Gateway.Api;

/// <summary>The exception queue: what failed for good, why (the vendor's words), and a retry button.</summary>
public static class OperationsApi
{
    private const string Queue = "ops";

    public static IEndpointRouteBuilder MapOperationsApi(this IEndpointRouteBuilder app)
    {
        var ops = app.MapGroup("/api/v1/ops").AddEndpointFilter<ApiKeyFilter>();
        ops.MapGet("/exceptions", async (IClusterClient grains, bool? includeResolved) =>
            TypedResults.Ok(new { items = await grains.GetGrain<IExceptionQueueGrain>(Queue).ListAsync(includeResolved ?? false) }));
        ops.MapGet("/exceptions/{id}", async Task<Results<Ok<OpsException>, ProblemHttpResult>> (string id, IClusterClient grains) =>
            await grains.GetGrain<IExceptionQueueGrain>(Queue).GetAsync(id) is { } e ? TypedResults.Ok(e) : NotFound(id));
        ops.MapPost("/exceptions/{id}/retry", async Task<Results<Ok<RetryAnswer>, ProblemHttpResult>> (string id, IClusterClient grains) =>
        {
            var queue = grains.GetGrain<IExceptionQueueGrain>(Queue);
            if (await queue.GetAsync(id) is not { } exception)
            {
                return NotFound(id);
            }

            // The owner runs the work again and resolves or re-raises the exception itself; an exception
            // without an owner (raised by the intake, not by a command) has nothing to run again.
            var command = exception.Owner is { } owner
                ? await grains.GetGrain<ICommandOwner>(GrainId.Parse(owner)).RetryCommandAsync(id)
                : null;
            return command is null
                ? TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Nothing to retry", detail: $"The owner of exception {id} holds no such command any more.")
                : TypedResults.Ok(new RetryAnswer(command, await queue.GetAsync(id)));
        });
        // The order counts are a projection of the orders' events; this rebuilds it from the orders themselves
        // (each known order restates its status), for after an event was lost or the projection's rules changed.
        ops.MapPost("/projections/orders/rebuild", async (IClusterClient grains) =>
            TypedResults.Accepted((string?)null, new { orders = await grains.GetGrain<IOrderCountsGrain>(OrderStreams.Key).RebuildAsync() }));
        app.MapGroup("/api/v1").AddEndpointFilter<ApiKeyFilter>().MapGet("/kpis", async (IClusterClient grains, IServiceProvider services, IOptions<JsonOptions> json) =>
        {
            var kpis = JsonSerializer.SerializeToNode(await grains.GetGrain<IKpiGrain>("kpis").GetAsync(), json.Value.SerializerOptions)!.AsObject();
            // Cluster mode: deliveries answered but not yet in their grains are the intake's backlog.
            if (services.GetService<IWebhookBacklog>() is { } inbox)
            {
                try
                {
                    kpis["webhookInbox"] = JsonSerializer.SerializeToNode(await inbox.FiguresAsync(), json.Value.SerializerOptions);
                }
                catch (NpgsqlException)
                {
                    // PostgreSQL unreachable: the grains' figures still answer; the inbox's are unknown.
                    kpis["webhookInbox"] = null;
                }
            }

            return Results.Json(kpis, json.Value.SerializerOptions);
        });
        // The memory of the process serving this API (in the embedded default, the whole system) after a full,
        // compacting collection: for capacity planning and the memory benchmark. Collecting pauses the process.
        ops.MapGet("/memory", () =>
        {
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            return TypedResults.Ok(new MemoryAnswer(GC.GetTotalMemory(false), Environment.WorkingSet, GC.CollectionCount(2)));
        });
        return app;
    }

    public sealed record RetryAnswer(CommandView Command, OpsException? Exception);

    public sealed record MemoryAnswer(long HeapBytes, long WorkingSetBytes, int Gen2Collections);

    private static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"No exception {id}.");
}
