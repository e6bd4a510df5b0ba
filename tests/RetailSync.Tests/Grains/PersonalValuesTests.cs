using RetailSync.Intake;
using RetailSync.Model;
using RetailSync.Operations;
using RetailSync.Orders;
using RetailSync.Outbox;

namespace RetailSync.Tests.Grains;

public sealed class PersonalValuesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void values_of_two_characters_or_fewer_are_left_and_the_rest_are_masked_longest_first_whatever_their_case()
    {
        var values = PersonalValues.Of(["Ada", "ada.lovelace@example.com", "ADA", null, "Lo", "", "Lovelace"]);
        Assert.Equal(["ada.lovelace@example.com", "Lovelace", "Ada"], values);
        Assert.Equal("""{"email":"[redacted]","name":"[redacted] [redacted]","code":"Lo"}""",
            PersonalValues.MaskIn("""{"email":"Ada.Lovelace@example.com","name":"ada LOVELACE","code":"Lo"}""", values));
    }

    [Fact]
    public void an_outbox_masks_what_ended_keeps_what_is_unsent_and_drops_it_only_when_asked()
    {
        var outbox = new CommandOutbox();
        var sent = outbox.Plan("crm:1", new OutboundCommand("crm", "upsert", """{"email":"ada@example.com"}""", null), Now)!;
        var failed = outbox.Plan("erp:1", new OutboundCommand("erp", "customer", """{"email":"ada@example.com"}""", null), Now)!;
        var waiting = outbox.Plan("crm:2", new OutboundCommand("crm", "upsert", """{"email":"ada@example.com"}""", null), Now)!;
        outbox.End(new CommandView("crm:1", sent.Command, CommandStatus.Succeeded, 1, null, "ok", null), Now);
        outbox.End(new CommandView("erp:1", failed.Command, CommandStatus.Failed, 3, "refused", null, null), Now);

        outbox.Redact(["ada@example.com"]);
        Assert.Equal("""{"email":"[redacted]"}""", outbox.Find("crm:1")!.Command.Payload);
        Assert.Equal("""{"email":"[redacted]"}""", outbox.Find("erp:1")!.Command.Payload);
        Assert.Equal("""{"email":"ada@example.com"}""", outbox.Find("crm:2")!.Command.Payload);

        outbox.Redact(["ada@example.com"], dropUnfinished: true);
        Assert.Null(outbox.Find("crm:2"));
        Assert.Equal(["crm:1", "erp:1"], outbox.Entries.Select(e => e.Key));
        Assert.NotNull(waiting);
    }

    [Fact]
    public void an_orders_personal_values_are_what_redaction_takes_and_the_phones_as_they_were_sent()
    {
        var billing = new Address("Ada", "Lovelace", "Analytical Ltd", "12 St James's Square", "Flat 2", "London", "England", "ENG", "SW1Y 4JH", "United Kingdom", "GB", "020 7946 0018");
        var fixture = RetailSync.Tests.Orders.OrderHarness.FixtureOrder(1);
        var order = fixture with
        {
            Email = "ada@example.com", Phone = "+44 20 7946 0000", BillingAddress = billing, ShippingAddress = null, Note = "leave at the door",
            Customer = fixture.Customer! with { Email = "ada@example.com", FirstName = "Ada", LastName = "Lovelace", Note = "VIP", DefaultAddress = null },
        };
        var values = OrderIntakeRules.PersonalValues(order).OfType<string>().ToHashSet();
        var redacted = OrderIntakeRules.Redact(order);

        foreach (var value in new[] { "Analytical Ltd", "12 St James's Square", "Flat 2", "London", "SW1Y 4JH", "020 7946 0018", "leave at the door", "VIP", "+442079460000", "+442079460018" })
        {
            Assert.Contains(value, values);
        }

        Assert.DoesNotContain("England", values);

        // Phones are read in the shipping address's country first, as they were sent: a London number on a US billing address.
        var shippedToLondon = order with { ShippingAddress = billing, BillingAddress = billing with { CountryCode = "US", Phone = null } };
        Assert.Contains("+442079460018", OrderIntakeRules.PersonalValues(shippedToLondon));
        Assert.DoesNotContain("GB", values);
        Assert.Equal("GB", redacted.BillingAddress!.CountryCode);
    }
}
