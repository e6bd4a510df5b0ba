using RetailSync.Intake;
using RetailSync.Platform;

namespace RetailSync.Customers;

/// <summary>Erasure of the golden record: what it knows, what its timeline says, what it has sent, what operations holds of it.</summary>
public sealed partial class CustomerGrain
{
    public async Task RedactAsync(string reason)
    {
        if (S.Redacted)
        {
            return;
        }

        var keys = S.Keys.ToList();
        var personal = PersonalValues.Of([.. S.Fields.Where(f => CustomerFields.Personal.Contains(f.Key)).Select(f => f.Value.Value),
            .. S.Sources.Values.SelectMany(s => s.Fields.Where(f => CustomerFields.Personal.Contains(f.Key)).Select(f => f.Value)),
            .. keys.Select(k => MatchKey.Parse(k).Value)]);
        S.Journal.Scrub(personal);
        // Nothing more of the person goes to the CRM or the ERP: what waited to be sent is dropped.
        S.Outbox.Redact(personal, dropUnfinished: true);
        foreach (var distribution in S.Distribution.Values)
        {
            distribution.LastPayload = null;
            if (distribution.Status == "Pending")
            {
                distribution.Status = "Redacted";
            }
        }

        S.Sources.Clear();
        S.SourceRules.Clear();
        S.Fields.Clear();
        S.Keys.Clear();
        S.History = [.. S.History.Select(h => h with { Keys = [], Changes = [] })];
        S.Redacted = true;
        S.Journal.Record(clock.GetUtcNow(), "privacy:redacted", reason, null);
        await this.WriteOrForgetAsync(state);
        await Task.WhenAll(keys.Select(k => Key(k).ReleaseAsync(Id)));
        await outbox.RedactExceptionsAsync($"customer:{Tenant}/{Id}", personal);
    }
}
