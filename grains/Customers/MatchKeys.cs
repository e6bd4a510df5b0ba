using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using PhoneNumbers;

namespace RetailSync.Customers;

/// <summary>A normalised match key: <c>{kind}:{value}</c> is the key grain's id within a tenant.</summary>
public readonly record struct MatchKey(string Kind, string Value)
{
    public override string ToString() => $"{Kind}:{Value}";

    public bool Strong => MatchKeys.IsStrong(Kind);

    public static MatchKey Parse(string key)
    {
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        return new MatchKey(key[..colon], key[(colon + 1)..]);
    }
}

/// <summary>
/// Normalisation of the values people are matched on. Pure functions: the same input gives the same
/// key on every silo, which is what makes a key grain a lock on one email or phone number.
/// </summary>
public static class MatchKeys
{
    public const string Email = MatchKinds.Email;

    /// <summary>Email and first name together: finds the second person of a shared family inbox again.</summary>
    public const string EmailName = MatchKinds.EmailName;
    public const string Loyalty = MatchKinds.Loyalty;
    public const string Phone = MatchKinds.Phone;
    public const string Address = MatchKinds.Address;

    private static readonly PhoneNumberUtil Phones = PhoneNumberUtil.GetInstance();

    /// <summary>Strong keys link or merge on their own; weak ones (phone, address + name) only raise candidates.</summary>
    public static bool IsStrong(string kind) => kind is not (Phone or Address);

    /// <summary>The order strong keys are tried in: the most specific first.</summary>
    private static int Rank(string kind) => kind switch
    {
        CustomerSources.Shopify or CustomerSources.Crm or CustomerSources.Erp => 1,
        Loyalty => 2,
        EmailName => 3,
        Email => 4,
        _ => 5,
    };

    /// <summary>Trim and lower-case; nothing provider-specific (dots and +tags in Gmail stay) unless configured.</summary>
    public static string? NormaliseEmail(string? raw)
    {
        var email = raw?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(email) || email.Any(char.IsWhiteSpace))
        {
            return null;
        }

        var at = email.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && at == email.LastIndexOf('@') && at < email.Length - 1 && email[(at + 1)..].Contains('.', StringComparison.Ordinal) ? email : null;
    }

    /// <summary>
    /// E.164 through libphonenumber; a national number is read in the address's country. A number that
    /// is not a valid number of that plan gives no key (a made-up "123" must not join strangers).
    /// </summary>
    public static string? NormalisePhone(string? raw, string? countryCode)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        var region = string.IsNullOrWhiteSpace(countryCode) ? "ZZ" : countryCode.Trim().ToUpperInvariant();
        try
        {
            var number = Phones.Parse(raw, region);
            return Phones.IsValidNumber(number) ? Phones.Format(number, PhoneNumberFormat.E164) : null;
        }
        catch (NumberParseException)
        {
            return null;
        }
    }

    /// <summary>The phone other systems are given: E.164 where a numbering plan reads it, else as the buyer typed it.</summary>
    public static string? PhoneToSend(string? raw, string? countryCode) => NormalisePhone(raw, countryCode) ?? (string.IsNullOrWhiteSpace(raw) ? null : raw.Trim());

    public static string? NormaliseLoyalty(string? raw)
    {
        var id = new string((raw ?? "").Where(char.IsLetterOrDigit).ToArray()).ToUpperInvariant();
        return id.Length == 0 ? null : id;
    }

    /// <summary>Letters only, lower case, accents removed: "  Müller-Lüdenscheidt " → "mullerludenscheidt".</summary>
    public static string? NormaliseName(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        // Folded by table: the hosts run with invariant globalization, where Unicode decomposition is not available.
        var letters = new StringBuilder(raw.Length);
        foreach (var c in raw.ToLowerInvariant())
        {
            var at = AccentedLetters.IndexOf(c, StringComparison.Ordinal);
            if (at >= 0)
            {
                letters.Append(PlainLetters[at]);
            }
            else if (c is 'ß')
            {
                letters.Append("ss");
            }
            else if (c is 'æ' or 'œ')
            {
                letters.Append(c == 'æ' ? "ae" : "oe");
            }
            else if (char.IsLetter(c))
            {
                letters.Append(c);
            }
        }

        return letters.Length == 0 ? null : letters.ToString();
    }

    private const string AccentedLetters = "àáâãäåāăąçćčďđèéêëēėęěìíîïīįıñńňòóôõöøōőŕřśšşșțťùúûüūůűųýÿžźżł";
    private const string PlainLetters = "aaaaaaaaacccddeeeeeeeeiiiiiiinnnoooooooorrssssttuuuuuuuuyyzzzl";

    private static readonly Dictionary<string, string> StreetWords = new(StringComparer.Ordinal)
    {
        ["street"] = "st", ["str"] = "st", ["strasse"] = "st", ["straße"] = "st", ["road"] = "rd", ["avenue"] = "ave", ["av"] = "ave",
        ["boulevard"] = "blvd", ["drive"] = "dr", ["lane"] = "ln", ["place"] = "pl", ["court"] = "ct", ["apartment"] = "apt", ["suite"] = "ste",
    };

    /// <summary>The first address line, postal code and country, with spacing, punctuation and street words made uniform.</summary>
    public static string? NormaliseAddress(string? line1, string? postalCode, string? countryCode)
    {
        if (string.IsNullOrWhiteSpace(line1) || string.IsNullOrWhiteSpace(postalCode))
        {
            return null;
        }

        var words = line1.ToLowerInvariant().Split([' ', ',', '.', '-', '#', '/'], StringSplitOptions.RemoveEmptyEntries)
            .Select(w => StreetWords.GetValueOrDefault(w, w));
        var postal = new string(postalCode.Where(char.IsLetterOrDigit).ToArray()).ToUpperInvariant();
        return $"{string.Join(' ', words)}|{postal}|{countryCode?.Trim().ToUpperInvariant()}";
    }

    /// <summary>The keys a source record offers, strongest first.</summary>
    public static ImmutableArray<MatchKey> From(SourceRecord record)
    {
        var keys = new List<MatchKey>();
        if (!string.IsNullOrWhiteSpace(record.SourceId))
        {
            keys.Add(new(record.System, record.SourceId.Trim().ToLowerInvariant()));
        }

        if (NormaliseLoyalty(record.Field(CustomerFields.LoyaltyId)) is { } loyalty)
        {
            keys.Add(new(Loyalty, loyalty));
        }

        var first = NormaliseName(record.Field(CustomerFields.FirstName));
        if (NormaliseEmail(record.Field(CustomerFields.Email)) is { } email)
        {
            keys.Add(new(Email, email));
            if (first is not null)
            {
                keys.Add(new(EmailName, $"{email}|{first}"));
            }
        }

        var address = AddressParts.Parse(record.Field(CustomerFields.BillingAddress));
        var country = record.Field(CustomerFields.CountryCode) ?? address?.CountryCode;
        if (NormalisePhone(record.Field(CustomerFields.Phone), country) is { } phone)
        {
            keys.Add(new(Phone, phone));
        }

        var last = NormaliseName(record.Field(CustomerFields.LastName));
        if (address is not null && last is not null && first is not null
            && NormaliseAddress(address.Line1, address.PostalCode, address.CountryCode) is { } place)
        {
            keys.Add(new(Address, $"{place}|{last}|{first}"));
        }

        return [.. keys.OrderBy(k => Rank(k.Kind))];
    }

    /// <summary>Builds the one-line address the golden record keeps.</summary>
    public static string? FormatAddress(string? line1, string? line2, string? postalCode, string? city, string? countryCode) =>
        string.IsNullOrWhiteSpace(line1) ? null : string.Join('|', line1.Trim(), line2?.Trim() ?? "", postalCode?.Trim() ?? "", city?.Trim() ?? "", countryCode?.Trim() ?? "");
}

/// <summary>The parts of a <see cref="CustomerFields.BillingAddress"/> line.</summary>
public sealed record AddressParts(string Line1, string Line2, string PostalCode, string City, string CountryCode)
{
    public static AddressParts? Parse(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return null;
        }

        var p = line.Split('|');
        string At(int i) => i < p.Length ? p[i] : "";
        return new AddressParts(At(0), At(1), At(2), At(3), At(4));
    }
}

/// <summary>The deterministic rules that decide between "same person", "maybe" and "different people".</summary>
public static class MatchRules
{
    public const string NewCustomer = "new customer";
    public const string SharedEmailNamesDiffer = "shared email, first names differ";
    public const string PhoneAndLastName = "same phone and name";
    public const string AddressAndName = "same billing address and name";
    public const string StewardApproved = "approved by a data steward";

    public static string SharedKey(string kind) => $"same {kind}";

    /// <summary>
    /// Whether two first names can be the same person's: equal, one an initial of the other, or a typo
    /// apart (one edit for short names, two for long ones). "Anna" and "Peter" on one email are two people.
    /// </summary>
    public static bool FirstNamesCompatible(string? a, string? b)
    {
        var x = MatchKeys.NormaliseName(a);
        var y = MatchKeys.NormaliseName(b);
        if (x is null || y is null || x == y)
        {
            return true;
        }

        if ((x.Length == 1 && y.StartsWith(x, StringComparison.Ordinal)) || (y.Length == 1 && x.StartsWith(y, StringComparison.Ordinal)))
        {
            return true;
        }

        return Distance(x, y) <= (Math.Min(x.Length, y.Length) >= 6 ? 2 : 1);
    }

    /// <summary>
    /// Whether two whole names ("Ann Lee", "A. Lee") can be one person's, as another system holds them: the
    /// same last word and compatible first words. Two names on one email that fit are that person; "Ann Lee"
    /// and "Ben Lee" sharing a family's inbox are two.
    /// </summary>
    public static bool FullNamesFit(string? a, string? b)
    {
        var x = Words(a);
        var y = Words(b);
        if (x.Length == 0 || y.Length == 0 || x[^1] != y[^1])
        {
            return false;
        }

        return FirstNamesCompatible(x.Length > 1 ? x[0] : null, y.Length > 1 ? y[0] : null);

        static string[] Words(string? name) =>
            [.. (name ?? "").Split([' ', '\t', '.', ','], StringSplitOptions.RemoveEmptyEntries).Select(MatchKeys.NormaliseName).OfType<string>()];
    }

    /// <summary>The name part a weak key's members are compared on: <c>last|first</c>, normalised.</summary>
    public static string NameKey(string? firstName, string? lastName) => $"{MatchKeys.NormaliseName(lastName)}|{MatchKeys.NormaliseName(firstName)}";

    /// <summary>
    /// Weak evidence between two golden customers (their <see cref="NameKey"/>s), or null. A phone shared by a
    /// household (same last name, other first names) is no evidence at all; nothing weak ever merges.
    /// </summary>
    public static string? WeakRule(MatchKey key, string nameA, string nameB)
    {
        var (lastA, firstA) = Split(nameA);
        var (lastB, firstB) = Split(nameB);
        return key.Kind switch
        {
            MatchKeys.Phone when lastA.Length > 0 && lastA == lastB && firstA.Length > 0 && firstB.Length > 0 && FirstNamesCompatible(firstA, firstB) => PhoneAndLastName,
            MatchKeys.Address => AddressAndName,
            _ => null,
        };

        static (string Last, string First) Split(string name)
        {
            var bar = name.IndexOf('|', StringComparison.Ordinal);
            return bar < 0 ? (name, "") : (name[..bar], name[(bar + 1)..]);
        }
    }

    /// <summary>Optimal string alignment distance (Damerau–Levenshtein with adjacent transpositions).</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}

/// <summary>
/// Per-field survivorship: the owning system wins (newest of its values); a field no owner has spoken
/// for takes the newest value of any system. Pure, so a merge or unmerge simply recomputes.
/// </summary>
public static class Survivorship
{
    public static readonly ImmutableDictionary<string, string> DefaultAuthority = new Dictionary<string, string>
    {
        [CustomerFields.BillingAddress] = CustomerSources.Erp, [CustomerFields.CreditLimit] = CustomerSources.Erp,
        [CustomerFields.TaxId] = CustomerSources.Erp, [CustomerFields.PaymentTerms] = CustomerSources.Erp,
        [CustomerFields.AccountNumber] = CustomerSources.Erp,
        [CustomerFields.Consent] = CustomerSources.Crm, [CustomerFields.Segment] = CustomerSources.Crm,
        [CustomerFields.Owner] = CustomerSources.Crm, [CustomerFields.ServiceContext] = CustomerSources.Crm,
        [CustomerFields.StorefrontProfile] = CustomerSources.Shopify, [CustomerFields.ShippingAddress] = CustomerSources.Shopify,
    }.ToImmutableDictionary(StringComparer.Ordinal);

    public static ImmutableDictionary<string, GoldenField> Compute(IEnumerable<KeyValuePair<string, SourceRecord>> sources, IReadOnlyDictionary<string, string> authority)
    {
        var fields = ImmutableDictionary.CreateBuilder<string, GoldenField>(StringComparer.Ordinal);
        foreach (var group in sources
                     .SelectMany(s => s.Value.Fields.Where(f => !string.IsNullOrWhiteSpace(f.Value))
                         .Select(f => (Field: f.Key, Value: new GoldenField(f.Value, s.Value.System, s.Key, s.Value.ObservedAt))))
                     .GroupBy(x => x.Field, StringComparer.Ordinal))
        {
            var owner = authority.GetValueOrDefault(group.Key);
            var candidates = group.Select(x => x.Value).ToList();
            var owned = owner is null ? [] : candidates.Where(c => c.System == owner).ToList();
            // Newest first; equal timestamps fall back to the source key so every silo picks the same value.
            fields[group.Key] = (owned.Count > 0 ? owned : candidates)
                .OrderByDescending(c => c.At).ThenBy(c => c.SourceKey, StringComparer.Ordinal).First();
        }

        return fields.ToImmutable();
    }

    /// <summary>Values a source offers that survivorship did not take because another system owns the field.</summary>
    public static IEnumerable<string> Overruled(SourceRecord record, IReadOnlyDictionary<string, GoldenField> golden, IReadOnlyDictionary<string, string> authority) =>
        record.Fields
            .Where(f => !string.IsNullOrWhiteSpace(f.Value) && authority.TryGetValue(f.Key, out var owner) && owner != record.System
                && golden.TryGetValue(f.Key, out var kept) && kept.System == owner && kept.Value != f.Value)
            .Select(f => $"{f.Key} ({authority[f.Key]} owns it)");

    public static ImmutableArray<FieldChange> Diff(IReadOnlyDictionary<string, GoldenField> before, IReadOnlyDictionary<string, GoldenField> after) =>
    [
        .. before.Keys.Union(after.Keys).Order(StringComparer.Ordinal)
            .Select(k => new FieldChange(k, before.GetValueOrDefault(k)?.Value, after.GetValueOrDefault(k)?.Value))
            .Where(c => c.Before != c.After),
    ];
}
