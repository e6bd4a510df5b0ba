using System.Collections.Immutable;

namespace RetailSync.Model;

[GenerateSerializer, Immutable, Alias("RetailSync.RefundLine")]
public sealed record RefundLine(
    [property: Id(0)] string RefundLineId,
    [property: Id(1)] string LineId,
    [property: Id(2)] string? Sku,
    [property: Id(3)] int Quantity,
    [property: Id(4)] string RestockType,
    [property: Id(5)] string? LocationId,
    [property: Id(6)] MoneyBag Subtotal,
    [property: Id(7)] MoneyBag TotalTax);

[GenerateSerializer, Immutable, Alias("RetailSync.Refund")]
public sealed record Refund(
    [property: Id(0)] string RefundId,
    [property: Id(1)] string OrderId,
    [property: Id(2)] string? Note,
    [property: Id(3)] bool Restock,
    [property: Id(4)] ImmutableArray<RefundLine> Lines,
    [property: Id(5)] Money? Transacted,
    [property: Id(6)] string? ReturnId,
    [property: Id(7)] DateTimeOffset CreatedAt);

[GenerateSerializer, Immutable, Alias("RetailSync.ReturnLine")]
public sealed record ReturnLine(
    [property: Id(0)] string ReturnLineId,
    [property: Id(1)] string? LineId,
    [property: Id(2)] int Quantity,
    [property: Id(3)] string? Reason,
    [property: Id(4)] string? Note);

[GenerateSerializer, Immutable, Alias("RetailSync.Return")]
public sealed record Return(
    [property: Id(0)] string ReturnId,
    [property: Id(1)] string OrderId,
    [property: Id(2)] string Status,
    [property: Id(3)] string? Name,
    [property: Id(4)] int TotalLines,
    [property: Id(5)] ImmutableArray<ReturnLine> Lines);
