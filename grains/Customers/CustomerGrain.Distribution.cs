using System.Globalization;
using System.Text.Json.Nodes;
using RetailSync.Connectors;
using RetailSync.Intake;
using RetailSync.Operations;
using RetailSync.Orders;
using RetailSync.Outbox;

namespace RetailSync.Customers;

/// <summary>Distribution to the CRM and the ERP: one version in flight per system, planned in the outbox with the change that caused it.</summary>
public sealed partial class CustomerGrain
{
    /// <summary>Plans the next version for each system with nothing in flight; stored with the change that caused it.</summary>
    private void PlanDistribution()
    {
        if (!options.Value.Distribute || S.Redacted)
        {
            return;
        }

        foreach (var system in new[] { SystemNames.Crm, SystemNames.Erp })
        {
            var d = S.Distribution.TryGetValue(system, out var known) ? known : S.Distribution[system] = new CustomerDistribution();
            if (S.Outbox.Unfinished.Any(e => e.Group == system) || d.SentVersion >= S.Version || Payload(system) is not { } command)
            {
                continue;
            }

            if (command.Payload == d.LastPayload && d.Status == "Synced")
            {
                // Nothing this system is told changed (a field another system owns, the storefront profile): no call.
                d.SentVersion = S.Version;
                continue;
            }

            d.LastPayload = command.Payload;
            d.SentVersion = S.Version;
            d.Status = "Pending";
            // One entry per system: the version before this one has ended (its outcome is on the timeline).
            S.Outbox.RemoveEnded(e => e.Group == system);
            S.Outbox.Plan($"customer:{system}:{Tenant}/{Id}:{S.Version}", command, clock.GetUtcNow(), group: system);
        }
    }

    private OutboundCommand? Payload(string system)
    {
        var f = S.Fields;
        string? Get(string name) => f.GetValueOrDefault(name)?.Value;
        var address = AddressParts.Parse(Get(CustomerFields.BillingAddress));
        if (S.MergedInto is { } survivor)
        {
            // The CRM learns where a merged-away contact went; the ERP keeps its customer for history (blocked by its own staff if wanted).
            return system == SystemNames.Crm && S.Distribution.GetValueOrDefault(system)?.AckedVersion > 0
                ? Command(system, "upsert", new CrmUpsert("Contact", GoldenIdField, new JsonObject { [GoldenIdField] = Id, ["RetailSync_Merged_Into__c"] = survivor }))
                : null;
        }

        if (system == SystemNames.Crm)
        {
            return Command(system, "upsert", new CrmUpsert("Contact", GoldenIdField, new JsonObject
            {
                [GoldenIdField] = Id,
                ["FirstName"] = Get(CustomerFields.FirstName),
                ["LastName"] = Get(CustomerFields.LastName) ?? Get(CustomerFields.Email) ?? Id,
                ["Email"] = Get(CustomerFields.Email),
                ["Phone"] = MatchKeys.PhoneToSend(Get(CustomerFields.Phone), address?.CountryCode),
                ["MailingStreet"] = address?.Line1,
                ["MailingPostalCode"] = address?.PostalCode,
                ["MailingCity"] = address?.City,
                ["MailingCountry"] = address?.CountryCode,
                ["Loyalty_Id__c"] = Get(CustomerFields.LoyaltyId),
            }));
        }

        var name = string.Join(' ', new[] { Get(CustomerFields.FirstName), Get(CustomerFields.LastName) }.Where(n => !string.IsNullOrWhiteSpace(n)));
        return Command(system, "customer", new ErpCustomer(Id, name.Length > 0 ? name : Get(CustomerFields.Email) ?? Id, Get(CustomerFields.Email),
            MatchKeys.PhoneToSend(Get(CustomerFields.Phone), address?.CountryCode), address?.Line1, address?.City, address?.PostalCode, address?.CountryCode));
    }

    private OutboundCommand Command<T>(string system, string operation, T payload) =>
        OutboundExecutor.Command(system, operation, payload, $"customer:{Tenant}/{Id}");

    /// <summary>
    /// Sends what was just planned in a turn of its own, so a resolution never waits on a dispatcher (the
    /// command is durable in this state already; the sweeper covers a crash before it is handed over).
    /// </summary>
    private void NudgeDistribution()
    {
        if (S.Outbox.Unfinished.Any(e => !outbox.WasHanded(e)))
        {
            this.AsReference<ICommandOwner>().ResumeAsync().Ignore();
        }
    }

    /// <summary>Hands planned commands to their dispatchers; one that cannot be reached is tried again shortly (and by the sweeper after a crash).</summary>
    private async Task SendPendingAsync(bool resend = false)
    {
        if (!await outbox.HandAsync(S.Outbox.Unfinished, resend))
        {
            S.Journal.Record(clock.GetUtcNow(), "identity:distribution", "not sent yet (a dispatcher did not answer); tried again shortly", null);
        }
    }

    public async Task CommandEndedAsync(CommandView command)
    {
        var now = clock.GetUtcNow();
        if (S.Outbox.End(command, now) is not { Group: { } system } entry || !S.Distribution.TryGetValue(system, out var d))
        {
            return;
        }

        var succeeded = entry.Succeeded;
        var wasRaised = entry.ExceptionRaised;
        d.Status = succeeded ? "Synced" : "Failed";
        d.Error = succeeded ? null : command.LastError;
        d.ExternalId = command.ExternalId ?? d.ExternalId;
        if (succeeded)
        {
            d.AckedVersion = long.Parse(entry.Key[(entry.Key.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
        }

        S.Journal.Record(now, $"{system}:{entry.Command.Operation}", succeeded ? $"version {d.AckedVersion}: {command.Result}" : $"failed: {command.LastError}", entry.Key);
        await outbox.SettleAsync(entry, command, $"customer:{Tenant}/{Id}", now);

        // A newer version waited for this one: it goes next (a failed one waits for the operator's retry).
        var sentBefore = S.Distribution.Values.Sum(x => x.SentVersion);
        if (succeeded)
        {
            PlanDistribution();
        }

        if (!succeeded || wasRaised || S.Distribution.Values.Sum(x => x.SentVersion) != sentBefore)
        {
            await this.WriteOrForgetAsync(state);
        }

        // A plain success is not stored on its own: it is stored with the next change, and if a crash loses it the
        // same version is upserted again, which the CRM and the ERP take as a no-op (keyed by the golden id).
        await SendPendingAsync();
        if (!S.Outbox.AnyUnfinished)
        {
            outbox.Unlist(always: true);
        }
    }

    public Task CommandRetryingAsync(CommandView command)
    {
        if (S.Outbox.Find(command.Key) is { EndedAt: null, Group: { } system } && S.Distribution.TryGetValue(system, out var d))
        {
            d.Status = "Retrying";
            d.Error = command.LastError;
        }

        return Task.CompletedTask;
    }

    public Task ResumeAsync() => SendPendingAsync(resend: true);

    public async Task<CommandView?> RetryCommandAsync(string key)
    {
        if (S.Outbox.Find(key) is not { Group: { } system } entry || !S.Distribution.TryGetValue(system, out var d))
        {
            return null;
        }

        if (S.Outbox.ReopenFailed(key, clock.GetUtcNow()) is not null)
        {
            d.Status = "Pending";
            S.Journal.Record(clock.GetUtcNow(), "operator", $"retry of {key} requested", key);
            await this.WriteOrForgetAsync(state);
            await SendPendingAsync();
        }

        return CommandOutbox.View(entry);
    }
}

