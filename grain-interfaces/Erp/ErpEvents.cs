using System.Collections.Immutable;

namespace RetailSync.Erp;

/// <summary>What the ERP says happened to a sales order it holds (RetailSync's ERP callback contract, see README).</summary>
public static class ErpOrderEventTypes
{
    public const string Shipped = "order.shipped";
    public const string Backordered = "order.backordered";
    public const string Released = "order.released";
    public const string OnHold = "order.onHold";
    public const string Rejected = "order.rejected";

    public static readonly string[] All = [Shipped, Backordered, Released, OnHold, Rejected];
}

/// <summary>One ERP event about one order; <see cref="Shipment"/> is set for <c>order.shipped</c>.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Erp.ErpOrderEvent")]
public sealed record ErpOrderEvent(
    [property: Id(0)] string Type,
    [property: Id(1)] string OrderId,
    [property: Id(2)] string? ErpNumber,
    [property: Id(3)] DateTimeOffset OccurredAt,
    [property: Id(4)] string? Reason,
    [property: Id(5)] ErpShipment? Shipment);

[GenerateSerializer, Immutable, Alias("RetailSync.Erp.ErpShipment")]
public sealed record ErpShipment(
    [property: Id(0)] string ShipmentId,
    [property: Id(1)] string? TrackingCompany,
    [property: Id(2)] string? TrackingNumber,
    [property: Id(3)] ImmutableArray<ErpShipmentLine> Lines);

[GenerateSerializer, Immutable, Alias("RetailSync.Erp.ErpShipmentLine")]
public sealed record ErpShipmentLine(
    [property: Id(0)] string Sku,
    [property: Id(1)] int Quantity);
