using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using RetailSync.Operations;

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
        ops.MapGet("/commands/{key}", async Task<Results<Ok<CommandView>, ProblemHttpResult>> (string key, IClusterClient grains) =>
            await grains.GetGrain<IOutboundCommandGrain>(key).GetAsync() is { } c
                ? TypedResults.Ok(c)
                : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"No command {key}."));
        ops.MapPost("/exceptions/{id}/retry", async Task<Results<Ok<RetryAnswer>, ProblemHttpResult>> (string id, IClusterClient grains) =>
        {
            var queue = grains.GetGrain<IExceptionQueueGrain>(Queue);
            if (await queue.GetAsync(id) is not { } exception)
            {
                return NotFound(id);
            }

            // The owner runs the work again and resolves or re-raises the exception itself.
            var command = exception.Owner is { } owner
                ? await grains.GetGrain<ICommandOwner>(GrainId.Parse(owner)).RetryCommandAsync(id)
                : await grains.GetGrain<IOutboundCommandGrain>(exception.OwnerKey).RetryAsync();
            return command is null
                ? TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Nothing to retry", detail: $"The owner of exception {id} holds no such command any more.")
                : TypedResults.Ok(new RetryAnswer(command, await queue.GetAsync(id)));
        });
        app.MapGroup("/api/v1").AddEndpointFilter<ApiKeyFilter>()
            .MapGet("/kpis", async (IClusterClient grains) => TypedResults.Ok(await grains.GetGrain<IKpiGrain>("kpis").GetAsync()));
        return app;
    }

    public sealed record RetryAnswer(CommandView Command, OpsException? Exception);

    private static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"No exception {id}.");
}
