using System.Collections.Immutable;
using System.Globalization;
using Bogus;
using RetailSync.Customers;

namespace RetailSync.Testing;

/// <summary>A source record and the person it really belongs to.</summary>
public sealed record LabelledRecord(int Person, SourceRecord Record);

/// <summary>
/// A labelled set of people as Shopify, the CRM and the ERP know them, with the noise real data has:
/// case and spacing in emails, national and international phone formats, typos in names, moved
/// addresses, guest checkouts next to registered accounts, work emails in the CRM, households sharing a
/// phone and an address, and families sharing one inbox. Fixed seed: the same set on every machine.
/// </summary>
public static class IdentityDataSet
{
    public const string Shop = "bench.myshopify.com";

    // Real US area codes, so every generated number is a valid one for libphonenumber.
    private static readonly string[] AreaCodes = ["212", "312", "415", "617", "206", "305", "512", "303", "404", "702", "646", "213", "773", "503", "612"];
    private static readonly string[] Domains = ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "example.com"];

    private sealed record Person(int Id, string First, string Last, string Email, string Phone, string? Loyalty, string Address, string Zip, string City);

    public static (IReadOnlyList<LabelledRecord> Records, int People) Generate(int people = 8_000, int seed = 20261127)
    {
        var f = new Faker("en") { Random = new Randomizer(seed) };
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var persons = new List<Person>(people);
        for (var p = 0; p < people; p++)
        {
            var first = f.Name.FirstName();
            if (p > 0 && f.Random.Double() < 0.10 && persons[p - 1] is var housemate && (p < 2 || persons[p - 2].Address != housemate.Address))
            {
                // A household: same last name, phone and address; one family in five shares one inbox too.
                var email = f.Random.Double() < 0.2 ? housemate.Email : Email(f, first, housemate.Last, p);
                persons.Add(housemate with { Id = p, First = first, Email = email, Loyalty = f.Random.Double() < 0.5 ? $"LY{p:D6}" : null });
                continue;
            }

            var last = f.Name.LastName();
            var exchange = f.Random.Number(200, 999);
            var phone = $"{f.PickRandom(AreaCodes)}{(exchange == 555 ? 556 : exchange)}{f.Random.Number(0, 9999):D4}";
            persons.Add(new Person(p, first, last, Email(f, first, last, p), phone, f.Random.Double() < 0.5 ? $"LY{p:D6}" : null,
                f.Address.StreetAddress(), f.Address.ZipCode("#####"), f.Address.City()));
        }

        var records = new List<LabelledRecord>();
        long orderId = 900_000_000;
        foreach (var person in persons)
        {
            DateTimeOffset At() => start.AddMinutes(f.Random.Number(0, 400_000));
            if (f.Random.Double() < 0.7)
            {
                records.Add(new(person.Id, new SourceRecord(CustomerSources.Shopify, $"{Shop}/{7_000_000 + person.Id}", At(), Fields(
                    (CustomerFields.FirstName, Typo(f, person.First)), (CustomerFields.LastName, person.Last), (CustomerFields.Email, Noisy(f, person.Email)),
                    (CustomerFields.Phone, PhoneFormat(f, person.Phone)), (CustomerFields.CountryCode, "US"),
                    (CustomerFields.BillingAddress, Address(f, person)), (CustomerFields.ShippingAddress, Address(f, person)),
                    (CustomerFields.LoyaltyId, f.Random.Double() < 0.5 ? person.Loyalty : null)))));
            }

            for (var guest = f.Random.WeightedRandom([0, 1, 2], [0.4f, 0.4f, 0.2f]); guest > 0; guest--)
            {
                var order = orderId++;
                records.Add(new(person.Id, new SourceRecord(CustomerSources.Shopify, null, At(), Fields(
                    (CustomerFields.FirstName, Typo(f, person.First)), (CustomerFields.LastName, Typo(f, person.Last)), (CustomerFields.Email, Noisy(f, person.Email)),
                    (CustomerFields.Phone, f.Random.Bool() ? PhoneFormat(f, person.Phone) : null), (CustomerFields.CountryCode, "US"),
                    (CustomerFields.BillingAddress, Address(f, person))), $"{Shop}/{order}")));
            }

            if (f.Random.Double() < 0.6)
            {
                // One contact in a hundred was entered with a work address: without a loyalty id, only weak evidence is left.
                var work = f.Random.Double() < 0.01;
                records.Add(new(person.Id, new SourceRecord(CustomerSources.Crm, $"003{person.Id:D12}", At(), Fields(
                    (CustomerFields.FirstName, Typo(f, person.First)), (CustomerFields.LastName, Typo(f, person.Last)),
                    (CustomerFields.Email, work ? $"{person.First}.{person.Last}@work{person.Id}.example.org".ToLowerInvariant() : Noisy(f, person.Email)),
                    (CustomerFields.Phone, $"+1 {person.Phone[..3]} {person.Phone[3..6]} {person.Phone[6..]}"), (CustomerFields.CountryCode, "US"),
                    (CustomerFields.LoyaltyId, person.Loyalty), (CustomerFields.Segment, f.PickRandom("VIP", "Regular", "New")),
                    (CustomerFields.Consent, f.PickRandom("SUBSCRIBED", "UNSUBSCRIBED")), (CustomerFields.Owner, $"005{f.Random.Number(1, 40):D12}")))));
            }

            if (f.Random.Double() < 0.5)
            {
                records.Add(new(person.Id, new SourceRecord(CustomerSources.Erp, $"C{person.Id:D7}", At(), Fields(
                    (CustomerFields.FirstName, person.First), (CustomerFields.LastName, person.Last), (CustomerFields.Email, person.Email),
                    (CustomerFields.BillingAddress, Address(f, person)), (CustomerFields.CountryCode, "US"),
                    (CustomerFields.CreditLimit, f.Random.Number(0, 20).ToString(CultureInfo.InvariantCulture) + "000"),
                    (CustomerFields.PaymentTerms, f.PickRandom("NET30", "NET14", "COD"))))));
            }
        }

        return ([.. f.Random.Shuffle(records)], people);
    }

    private static string Email(Faker f, string first, string last, int p) =>
        $"{first}.{last}{p}@{f.PickRandom(Domains)}".ToLowerInvariant().Replace(' ', '-').Replace('\'', '-');

    /// <summary>Case and spacing a person or a form adds.</summary>
    private static string Noisy(Faker f, string email) => f.Random.Number(0, 9) switch
    {
        0 => $"  {email} ",
        1 => email.ToUpperInvariant(),
        2 => char.ToUpperInvariant(email[0]) + email[1..],
        _ => email,
    };

    /// <summary>One name in ten with a one-letter typo (swap, drop or replace).</summary>
    private static string Typo(Faker f, string name)
    {
        if (name.Length < 4 || f.Random.Double() >= 0.1)
        {
            return name;
        }

        var i = f.Random.Number(1, name.Length - 2);
        return f.Random.Number(0, 2) switch
        {
            0 => name[..i] + name[i + 1] + name[i] + name[(i + 2)..],
            1 => name[..i] + name[(i + 1)..],
            _ => name[..i] + f.Random.Char('a', 'z') + name[(i + 1)..],
        };
    }

    private static string PhoneFormat(Faker f, string digits) => f.Random.Number(0, 3) switch
    {
        0 => $"({digits[..3]}) {digits[3..6]}-{digits[6..]}",
        1 => $"+1 {digits[..3]} {digits[3..6]} {digits[6..]}",
        2 => $"{digits[..3]}.{digits[3..6]}.{digits[6..]}",
        _ => $"1-{digits[..3]}-{digits[3..6]}-{digits[6..]}",
    };

    /// <summary>One address in ten is an old one (the person moved since).</summary>
    private static string Address(Faker f, Person p) => f.Random.Double() < 0.1
        ? $"{f.Address.StreetAddress()}||{f.Address.ZipCode("#####")}|{f.Address.City()}|US"
        : $"{p.Address}||{p.Zip}|{p.City}|US";

    private static ImmutableDictionary<string, string> Fields(params (string Name, string? Value)[] fields) =>
        fields.Where(x => !string.IsNullOrWhiteSpace(x.Value)).ToImmutableDictionary(x => x.Name, x => x.Value!, StringComparer.Ordinal);

    /// <summary>Pairwise precision and recall of a clustering against the truth, and the residual duplicate rate.</summary>
    public static IdentityScore Score(IReadOnlyList<(int Person, string? Golden)> assignments, int people)
    {
        static double Pairs(long n) => n * (n - 1) / 2.0;
        var attached = assignments.Where(a => a.Golden is not null).ToList();
        var predicted = attached.GroupBy(a => a.Golden).Sum(g => Pairs(g.LongCount()));
        var actual = attached.GroupBy(a => a.Person).Sum(g => Pairs(g.LongCount()));
        var correct = attached.GroupBy(a => (a.Golden, a.Person)).Sum(g => Pairs(g.LongCount()));
        var seen = attached.Select(a => a.Person).Distinct().Count();
        var goldensPerPerson = attached.GroupBy(a => a.Person).Select(g => g.Select(a => a.Golden).Distinct().Count()).ToList();
        return new IdentityScore(
            Precision: predicted == 0 ? 1 : correct / predicted,
            Recall: actual == 0 ? 1 : correct / actual,
            ResidualDuplicateRate: seen == 0 ? 0 : goldensPerPerson.Sum(n => n - 1) / (double)seen,
            Goldens: attached.Select(a => a.Golden).Distinct().Count(),
            People: seen,
            Unattached: assignments.Count - attached.Count);
    }
}

public sealed record IdentityScore(double Precision, double Recall, double ResidualDuplicateRate, int Goldens, int People, int Unattached);
