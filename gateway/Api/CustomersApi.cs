using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using RetailSync.Customers;
using RetailSync.Intake;
using RetailSync.Operations;

namespace RetailSync.Gateway.Api;

/// <summary>
/// Golden customers: the record with the source of every field, linked ids and merge history; lookup by
/// email, phone or loyalty id; a data steward's unmerge, and approve/reject of merge candidates.
/// </summary>
public static class CustomersApi
{
    public static IEndpointRouteBuilder MapCustomersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").AddEndpointFilter<ApiKeyFilter>();
        api.MapGet("/customers/{tenant}/{customerId}", async Task<Results<Ok<CustomerView>, ProblemHttpResult>> (string tenant, string customerId, IClusterClient grains) =>
            await ViewAsync(grains, tenant, customerId) is { } view
                ? TypedResults.Ok(view)
                : NotFound($"No customer {customerId} of {tenant} is known."));

        api.MapGet("/customers/{tenant}", async Task<Results<Ok<CustomerList>, ProblemHttpResult>> (string tenant, string? email, string? phone, string? loyaltyId,
            string? country, IClusterClient grains) =>
        {
            var (kind, value) = email is { Length: > 0 } ? (MatchKinds.Email, email)
                : phone is { Length: > 0 } ? (MatchKinds.Phone, phone)
                : loyaltyId is { Length: > 0 } ? (MatchKinds.Loyalty, loyaltyId)
                : (null, null);
            if (kind is null)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Missing lookup key",
                    detail: "Give one of email, phone (with country for a national number) or loyaltyId.");
            }

            var ids = await grains.GetGrain<IIdentityResolverGrain>(0).LookupAsync(tenant, kind, value!, country);
            var views = await Task.WhenAll(ids.Select(id => ViewAsync(grains, tenant, id)));
            return TypedResults.Ok(new CustomerList([.. views.OfType<CustomerView>()]));
        });

        api.MapPost("/customers/{tenant}/{customerId}/unmerge", async Task<Results<Ok<CustomerView>, ProblemHttpResult>> (string tenant, string customerId,
            UnmergeRequest request, IClusterClient grains) =>
        {
            if (string.IsNullOrWhiteSpace(request.AbsorbedId))
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Missing absorbedId", detail: "Name the merged-away customer to split off.");
            }

            var done = await grains.GetGrain<ICustomerGrain>(EntityKeys.ForShop(tenant, customerId)).UnmergeAsync(request.AbsorbedId, request.Actor ?? "api");
            return done && await ViewAsync(grains, tenant, customerId) is { } view
                ? TypedResults.Ok(view)
                : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not merged",
                    detail: $"{request.AbsorbedId} was not merged into {customerId}.");
        });

        var ops = app.MapGroup("/api/v1/ops").AddEndpointFilter<ApiKeyFilter>();
        ops.MapPost("/exceptions/{id}/approve", (string id, StewardDecision? decision, IClusterClient grains) => DecideAsync(id, true, decision, grains));
        ops.MapPost("/exceptions/{id}/reject", (string id, StewardDecision? decision, IClusterClient grains) => DecideAsync(id, false, decision, grains));
        return app;
    }

    private static async Task<Results<Ok<LinkResult>, ProblemHttpResult>> DecideAsync(string id, bool approve, StewardDecision? decision, IClusterClient grains)
    {
        var exception = await grains.GetGrain<IExceptionQueueGrain>("ops").GetAsync(id);
        if (exception is null)
        {
            return NotFound($"No exception {id}.");
        }

        if (exception.Operation != MergeCandidate.Operation || JsonSerializer.Deserialize<MergeCandidate>(exception.Payload) is not { } candidate)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not a merge candidate",
                detail: $"Exception {id} is a {exception.System} {exception.Operation} failure: retry it instead.");
        }

        var result = await grains.GetGrain<IIdentityResolverGrain>(0)
            .DecideCandidateAsync(candidate.Tenant, candidate.A, candidate.B, approve, decision?.Actor ?? "api");
        return TypedResults.Ok(result);
    }

    /// <summary>The golden record; a merged-away id answers with its survivor, saying which id was asked for.</summary>
    private static async Task<CustomerView?> ViewAsync(IClusterClient grains, string tenant, string customerId)
    {
        var view = await grains.GetGrain<ICustomerGrain>(EntityKeys.ForShop(tenant, customerId)).GetAsync();
        if (view?.MergedInto is null)
        {
            return view;
        }

        var holder = await grains.GetGrain<IIdentityResolverGrain>(0).FollowAsync(tenant, customerId);
        return await grains.GetGrain<ICustomerGrain>(EntityKeys.ForShop(tenant, holder)).GetAsync() is { } survivor
            ? survivor with { RequestedId = customerId }
            : null;
    }

    private static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);

    public sealed record CustomerList(IReadOnlyList<CustomerView> Items);

    public sealed record UnmergeRequest(string? AbsorbedId, string? Actor);

    public sealed record StewardDecision(string? Actor);
}
