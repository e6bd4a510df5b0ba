using System.Collections.Immutable;
using RetailSync.Customers;

namespace RetailSync.Tests.Customers;

/// <summary>Normalisation and the match rules, without a cluster.</summary>
public sealed class MatchRulesTests
{
    private static SourceRecord Record(string system, string? sourceId, params (string Field, string Value)[] fields) =>
        new(system, sourceId, DateTimeOffset.Parse("2026-11-01T10:00:00Z"), fields.ToImmutableDictionary(f => f.Field, f => f.Value));

    [Theory]
    [InlineData("  Anna.Schmidt@Example.COM ", "anna.schmidt@example.com")]
    [InlineData("ANNA+shop@gmail.com", "anna+shop@gmail.com")]
    [InlineData("anna.s@gmail.com", "anna.s@gmail.com")]
    [InlineData("", null)]
    [InlineData("not an email", null)]
    [InlineData("anna@localhost", null)]
    [InlineData("a@b@c.de", null)]
    public void emails_are_trimmed_and_lower_cased_and_nothing_else(string raw, string? expected) =>
        Assert.Equal(expected, MatchKeys.NormaliseEmail(raw));

    [Theory]
    [InlineData("030 1234567", "DE", "+49301234567")]
    [InlineData("+49 30 1234567", "US", "+49301234567")]
    [InlineData("0049 30 1234567", "DE", "+49301234567")]
    [InlineData("(415) 555-2671", "US", "+14155552671")]
    [InlineData("+1 415-555-2671", null, "+14155552671")]
    [InlineData("020 7946 0018", "GB", "+442079460018")]
    [InlineData("415 555 2671", null, null)]
    [InlineData("123", "US", null)]
    public void phones_become_e164_reading_national_numbers_in_the_address_country(string raw, string? country, string? expected) =>
        Assert.Equal(expected, MatchKeys.NormalisePhone(raw, country));

    [Fact]
    public void names_and_addresses_lose_case_accents_punctuation_and_street_words()
    {
        Assert.Equal("mullerludenscheidt", MatchKeys.NormaliseName("  Müller-Lüdenscheidt "));
        Assert.Equal(MatchKeys.NormaliseAddress("12 Main Street, Apt. 4", "sw1a 1aa", "gb"), MatchKeys.NormaliseAddress("12  main st apt 4", "SW1A1AA", "GB"));
        Assert.Null(MatchKeys.NormaliseAddress("12 Main Street", null, "GB"));
    }

    [Fact]
    public void a_record_offers_its_keys_strongest_first()
    {
        var keys = MatchKeys.From(Record("shopify", "Shop.myshopify.com/42",
            (CustomerFields.Email, " Anna@Example.com"), (CustomerFields.FirstName, "Anna"), (CustomerFields.LastName, "Schmidt"),
            (CustomerFields.Phone, "030 1234567"), (CustomerFields.LoyaltyId, "ly-0042"),
            (CustomerFields.BillingAddress, "Hauptstraße 5||10115|Berlin|DE")));

        Assert.Equal(
            ["shopify:shop.myshopify.com/42", "loyalty:LY0042", "emailname:anna@example.com|anna", "email:anna@example.com", "phone:+49301234567",
                "address:hauptstraße 5|10115|DE|schmidt|anna"],
            keys.Select(k => k.ToString()));
        Assert.Equal([true, true, true, true, false, false], keys.Select(k => k.Strong));
    }

    [Fact]
    public void a_guest_with_no_email_offers_nothing_strong()
    {
        var keys = MatchKeys.From(Record("shopify", null, (CustomerFields.Phone, "+1 415-555-2671"), (CustomerFields.LastName, "Lee")));
        Assert.DoesNotContain(keys, k => k.Strong);
    }

    [Theory]
    [InlineData("Jonathan", "Jonathon", true)]
    [InlineData("John", "Jon", true)]
    [InlineData("Anna", "ANNA ", true)]
    [InlineData("J", "Julia", true)]
    [InlineData("Anna", "Peter", false)]
    [InlineData("Mia", "Max", false)]
    [InlineData("Christina", "Kristina", true)]
    [InlineData("Michael", "Michelle", false)]
    public void first_names_on_a_shared_email_must_fit_to_be_one_person(string a, string b, bool fit) =>
        Assert.Equal(fit, MatchRules.FirstNamesCompatible(a, b));

    [Theory]
    [InlineData("Ada Lovelace", "Ada Lovelace", true)]
    [InlineData("Ada Lovelace", "A. Lovelace", true)]
    [InlineData("ada  LOVELACE", "Ada Lovelace", true)]
    [InlineData("Ada Byron Lovelace", "Ada Lovelace", true)]
    [InlineData("Lovelace", "Ada Lovelace", true)]
    [InlineData("Jonathan Smith", "Jonathon Smith", true)]
    [InlineData("Ann Lee", "Ben Lee", false)]
    [InlineData("Ada Lovelace", "Ada King", false)]
    [InlineData("Ada Lovelace", "", false)]
    [InlineData(null, "Ada Lovelace", false)]
    [InlineData("Ada Lovelace", "...", false)]
    public void whole_names_fit_on_the_same_last_name_and_compatible_first_names(string? a, string? b, bool fit)
    {
        Assert.Equal(fit, MatchRules.FullNamesFit(a, b));
        Assert.Equal(fit, MatchRules.FullNamesFit(b, a));
    }

    [Theory]
    [InlineData("(613) 555-0100", "CA", "+16135550100")]
    [InlineData(" 020 7946 0958 ", "GB", "+442079460958")]
    [InlineData("+1 613 555 0100", null, "+16135550100")]
    [InlineData(" 555-555-SHIP ", "US", "555-555-SHIP")]
    [InlineData("   ", "US", null)]
    [InlineData(null, "US", null)]
    public void other_systems_get_the_phone_in_e164_or_as_typed_when_no_plan_reads_it(string? raw, string? country, string? expected) =>
        Assert.Equal(expected, MatchKeys.PhoneToSend(raw, country));

    [Fact]
    public void a_household_phone_is_no_evidence_and_the_same_name_on_a_phone_is_only_a_candidate()
    {
        var phone = new MatchKey(MatchKeys.Phone, "+49301234567");
        Assert.False(phone.Strong);
        Assert.Equal(MatchRules.PhoneAndLastName, MatchRules.WeakRule(phone, MatchRules.NameKey("Jon", "Schmidt"), MatchRules.NameKey("John", "SCHMIDT")));
        Assert.Null(MatchRules.WeakRule(phone, MatchRules.NameKey("Anna", "Schmidt"), MatchRules.NameKey("Peter", "Schmidt")));
        Assert.Null(MatchRules.WeakRule(phone, MatchRules.NameKey("Anna", "Schmidt"), MatchRules.NameKey("Anna", "Meyer")));
        Assert.Null(MatchRules.WeakRule(phone, MatchRules.NameKey(null, "Schmidt"), MatchRules.NameKey("Anna", "Schmidt")));
        Assert.Equal(MatchRules.AddressAndName, MatchRules.WeakRule(new MatchKey(MatchKeys.Address, "1 main st|10115|DE|schmidt|anna"), "schmidt|anna", "schmidt|anna"));
    }

    [Fact]
    public void the_owning_system_wins_its_fields_and_the_newest_wins_among_equals()
    {
        var t0 = DateTimeOffset.Parse("2026-11-01T10:00:00Z");
        var sources = new Dictionary<string, SourceRecord>
        {
            ["erp:c1"] = new("erp", "C1", t0, ImmutableDictionary<string, string>.Empty
                .Add(CustomerFields.BillingAddress, "1 ERP Road||1000|Bern|CH").Add(CustomerFields.CreditLimit, "5000").Add(CustomerFields.FirstName, "Anna")),
            ["shopify:s/1"] = new("shopify", "s/1", t0.AddDays(1), ImmutableDictionary<string, string>.Empty
                .Add(CustomerFields.BillingAddress, "9 Shop Street||2000|Basel|CH").Add(CustomerFields.FirstName, "Anne").Add(CustomerFields.Consent, "SUBSCRIBED")),
            ["crm:003"] = new("crm", "003", t0, ImmutableDictionary<string, string>.Empty.Add(CustomerFields.Consent, "UNSUBSCRIBED")),
        };

        var golden = Survivorship.Compute(sources, Survivorship.DefaultAuthority);

        Assert.Equal(("1 ERP Road||1000|Bern|CH", "erp"), (golden[CustomerFields.BillingAddress].Value, golden[CustomerFields.BillingAddress].System));
        Assert.Equal(("UNSUBSCRIBED", "crm"), (golden[CustomerFields.Consent].Value, golden[CustomerFields.Consent].System));
        Assert.Equal(("Anne", "shopify", t0.AddDays(1)), (golden[CustomerFields.FirstName].Value, golden[CustomerFields.FirstName].System, golden[CustomerFields.FirstName].At));
        Assert.Equal(
            [$"{CustomerFields.BillingAddress} (erp owns it)", $"{CustomerFields.Consent} (crm owns it)"],
            Survivorship.Overruled(sources["shopify:s/1"], golden, Survivorship.DefaultAuthority).Order());

        // Without the ERP's record, Shopify's address fills the field until its owner speaks.
        var withoutErp = Survivorship.Compute(sources.Where(s => s.Key != "erp:c1"), Survivorship.DefaultAuthority);
        Assert.Equal("shopify", withoutErp[CustomerFields.BillingAddress].System);
    }

    [Fact]
    public void golden_ids_sort_by_creation_and_fit_a_business_central_customer_number()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.Parse("2026-11-27T09:00:00Z"));
        var first = GoldenIds.New(clock);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        var second = GoldenIds.New(clock);

        Assert.True(string.CompareOrdinal(first, second) < 0);
        Assert.Equal(17, first.Length);
        Assert.StartsWith("G", first, StringComparison.Ordinal);
        Assert.NotEqual(GoldenIds.New(clock), GoldenIds.New(clock));
        Assert.True(GoldenIds.IsGolden(first));
    }

    [Theory]
    [InlineData("RS-ADA-1")]
    [InlineData("G06H1SHZQDW42KRJ")]
    [InlineData("G06H1SHZQDW42KRJWX")]
    [InlineData("G06H1SHZQDW42KRJI")]
    [InlineData("X06H1SHZQDW42KRJW")]
    [InlineData("")]
    [InlineData(null)]
    public void other_numbers_are_not_golden_ids(string? value) => Assert.False(GoldenIds.IsGolden(value));
}
