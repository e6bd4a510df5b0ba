using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace RetailSync.Connectors.Tryton;

/// <summary>
/// Tryton's JSON-RPC: one POST per call to <c>/{database}/</c>, a session from <c>common.db.login</c>
/// sent as <c>Authorization: Session base64(user:uid:key)</c>, and the user's preferences passed as the
/// last parameter of every model call (Tryton refuses calls without that context).
/// </summary>
public sealed class TrytonRpc(HttpClient http, Func<TrytonConnectorOptions> options, string system = TrytonRpc.SystemName)
{
    public const string SystemName = "tryton";

    private readonly SemaphoreSlim loginGate = new(1, 1);
    private Session? session;
    private long nextId;

    private sealed record Session(string Header, JsonObject Context, long UserId);

    /// <summary>Exception data key of a Tryton <c>UserWarning</c>'s name (what a <c>res.user.warning</c> record must name to skip it).</summary>
    public const string WarningName = "tryton.warning";

    /// <summary>Calls <c>model.{model}.{method}</c> with the user's context (extended by <paramref name="context"/>) appended.</summary>
    public async Task<JsonNode?> ModelAsync(string model, string method, JsonArray args, JsonObject? context = null, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = await SessionAsync(cancellationToken);
            var full = (JsonObject)current.Context.DeepClone();
            foreach (var (key, value) in context ?? [])
            {
                full[key] = value?.DeepClone();
            }

            var parameters = (JsonArray)args.DeepClone();
            parameters.Add(full);
            try
            {
                return await CallAsync($"model.{model}.{method}", parameters, current.Header, cancellationToken);
            }
            catch (SessionExpiredException) when (attempt == 0)
            {
                // 401: the session expired or the server restarted; log in again once.
                Interlocked.CompareExchange(ref session, null, current);
            }
        }
    }

    /// <summary>The user's context (company, language...) as this session sends it.</summary>
    public async Task<JsonObject> ContextAsync(CancellationToken cancellationToken = default) =>
        (JsonObject)(await SessionAsync(cancellationToken)).Context.DeepClone();

    /// <summary>The logged-in user's id.</summary>
    public async Task<long> UserIdAsync(CancellationToken cancellationToken = default) => (await SessionAsync(cancellationToken)).UserId;

    /// <summary>Forgets the session and its context, e.g. after the user's company changed.</summary>
    public void Reset() => Volatile.Write(ref session, null);

    /// <summary>Runs a wizard from its first state through the given (state, data) steps and deletes its session.</summary>
    public async Task<JsonNode?> WizardAsync(string wizard, IReadOnlyList<(string State, JsonObject Data)> steps, CancellationToken cancellationToken = default)
    {
        var current = await SessionAsync(cancellationToken);
        var created = await CallAsync($"wizard.{wizard}.create", [current.Context.DeepClone()], current.Header, cancellationToken);
        var id = created![0]!.DeepClone();
        JsonNode? last = null;
        try
        {
            foreach (var (state, data) in steps)
            {
                last = await CallAsync($"wizard.{wizard}.execute", [id.DeepClone(), data.DeepClone(), state, current.Context.DeepClone()], current.Header, cancellationToken);
            }
        }
        finally
        {
            await CallAsync($"wizard.{wizard}.delete", [id.DeepClone(), current.Context.DeepClone()], current.Header, CancellationToken.None);
        }

        return last;
    }

    public async Task<JsonArray> SearchReadAsync(string model, JsonArray domain, IReadOnlyList<string> fields, int? limit = null, string? order = null,
        JsonObject? context = null, CancellationToken cancellationToken = default)
    {
        JsonNode? orderNode = order is null ? null : new JsonArray(new JsonArray(order, "ASC"));
        var result = await ModelAsync(model, "search_read", [domain, 0, limit, orderNode, new JsonArray([.. fields.Select(f => (JsonNode)f)])], context, cancellationToken);
        return result as JsonArray ?? [];
    }

    public async Task<IReadOnlyList<long>> CreateAsync(string model, IEnumerable<JsonObject> values, CancellationToken cancellationToken = default)
    {
        var result = await ModelAsync(model, "create", [new JsonArray([.. values])], null, cancellationToken);
        return [.. result!.AsArray().Select(id => id!.GetValue<long>())];
    }

    /// <summary>Writes values; with <paramref name="timestamps"/> (id → <c>_timestamp</c> read before) Tryton refuses if the record changed since.</summary>
    public Task WriteAsync(string model, IReadOnlyList<long> ids, JsonObject values, IReadOnlyDictionary<long, string>? timestamps = null, CancellationToken cancellationToken = default)
    {
        JsonObject? context = null;
        if (timestamps is not null)
        {
            var map = new JsonObject();
            foreach (var (id, timestamp) in timestamps)
            {
                map[$"{model},{id}"] = timestamp;
            }

            context = new JsonObject { ["_timestamp"] = map };
        }

        return ModelAsync(model, "write", [Ids(ids), values], context, cancellationToken);
    }

    /// <summary>A model button (a workflow transition such as quote, confirm, process) on many records in one transaction.</summary>
    public Task ButtonAsync(string model, string button, IReadOnlyList<long> ids, CancellationToken cancellationToken = default) =>
        ModelAsync(model, button, [Ids(ids)], null, cancellationToken);

    public static JsonArray Ids(IEnumerable<long> ids) => new([.. ids.Select(id => (JsonNode)id)]);

    public static JsonObject Decimal(decimal value) => new() { ["__class__"] = "Decimal", ["decimal"] = value.ToString(CultureInfo.InvariantCulture) };

    public static JsonObject Date(DateOnly value) => new() { ["__class__"] = "date", ["year"] = value.Year, ["month"] = value.Month, ["day"] = value.Day };

    /// <summary>Tryton sends Decimals tagged (<c>{"__class__":"Decimal","decimal":"1.50"}</c>); plain numbers are read too.</summary>
    public static decimal ToDecimal(JsonNode? node) => node switch
    {
        null => 0m,
        JsonObject tagged => decimal.Parse(tagged["decimal"]!.GetValue<string>(), NumberStyles.Number, CultureInfo.InvariantCulture),
        JsonValue value when value.TryGetValue<decimal>(out var d) => d,
        JsonValue value => decimal.Parse(value.ToString(), NumberStyles.Number, CultureInfo.InvariantCulture),
        _ => throw new FormatException($"not a Decimal: {node.ToJsonString()}"),
    };

    private async Task<Session> SessionAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref session) is { } existing)
        {
            return existing;
        }

        await loginGate.WaitAsync(cancellationToken);
        try
        {
            if (session is not null)
            {
                return session;
            }

            var o = options();
            var login = await CallAsync("common.db.login", [o.User, new JsonObject { ["password"] = o.Password }, "en"], null, cancellationToken)
                ?? throw new ConnectorException(system, FailureKind.Permanent, "LoginFailed", "login returned nothing");
            var header = "Session " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{o.User}:{login[0]}:{login[1]}"));
            var preferences = await CallAsync("model.res.user.get_preferences", [true, new JsonObject()], header, cancellationToken);
            var context = new JsonObject();
            foreach (var (key, value) in preferences!.AsObject())
            {
                // The preferences carry display data too (names of the company, language...); the context takes the ids and settings.
                if (key is not "company_work_time" && !key.EndsWith(".rec_name", StringComparison.Ordinal))
                {
                    context[key] = value?.DeepClone();
                }
            }

            session = new Session(header, context, login[0]!.GetValue<long>());
            return session;
        }
        finally
        {
            loginGate.Release();
        }
    }

    private async Task<JsonNode?> CallAsync(string method, JsonArray parameters, string? authorization, CancellationToken cancellationToken)
    {
        var o = options();
        var configured = !string.IsNullOrEmpty(o.Url) && !string.IsNullOrEmpty(o.Database);
        using var request = new HttpRequestMessage(HttpMethod.Post, configured ? $"{o.Url.TrimEnd('/')}/{Uri.EscapeDataString(o.Database)}/" : "tryton:/");
        request.Content = new StringContent(new JsonObject
        {
            ["id"] = Interlocked.Increment(ref nextId), ["method"] = method, ["params"] = parameters,
        }.ToJsonString(), Encoding.UTF8, "application/json");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await Transport.SendAsync(http, request, system, cancellationToken, configured);
        switch (response.StatusCode)
        {
            case HttpStatusCode.Unauthorized when authorization is not null:
                throw new SessionExpiredException();
            case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden when authorization is null:
                throw new ConnectorException(system, FailureKind.Permanent, "LoginFailed", $"Tryton refused the login of {o.User} to {o.Database}");
            case HttpStatusCode.Forbidden:
                throw new ConnectorException(system, FailureKind.Permanent, "Forbidden", $"{method} is not exposed to {o.User}");
            case HttpStatusCode.NotFound:
                throw new ConnectorException(system, FailureKind.Permanent, "DatabaseNotFound", $"Tryton has no database {o.Database}");
            case var status when !response.IsSuccessStatusCode:
                throw new ConnectorException(system, ConnectorException.KindOf((int)status), ((int)status).ToString(CultureInfo.InvariantCulture), $"{method}: HTTP {(int)status}");
        }

        var body = (await Transport.ReadJsonAsync(response, cancellationToken))?.AsObject() ?? throw new System.Text.Json.JsonException($"{method}: Tryton answered with an empty body");
        if (body["error"] is JsonArray error)
        {
            throw Error(method, error);
        }

        return body["result"];
    }

    /// <summary>
    /// Errors come with HTTP 200: <c>["UserError", [message, description, domain]]</c>,
    /// <c>["UserWarning", [name, message, description]]</c> (the caller decides what a warning means), <c>["ConcurrencyException", message]</c>, or for
    /// anything unexpected <c>[text, traceback]</c>.
    /// </summary>
    private ConnectorException Error(string method, JsonArray error)
    {
        var type = error[0]?.ToString() ?? "";
        var args = error.Count > 1 ? error[1] : null;
        string Arg(int i) => args is JsonArray a && a.Count > i ? a[i]?.ToString() ?? "" : "";
        return type switch
        {
            "UserError" => new ConnectorException(system, FailureKind.Permanent, type, Join(Arg(0), Arg(1))),
            "UserWarning" => Warning(new ConnectorException(system, FailureKind.Permanent, type, Join(Arg(1), Arg(2))), Arg(0)),
            "ConcurrencyException" => new ConnectorException(system, FailureKind.Conflict, type, args is JsonArray ? Arg(0) : args?.ToString() ?? ""),
            "LoginException" => new ConnectorException(system, FailureKind.Permanent, type, Arg(1)),
            // Server-side failures (a locked SQLite database, a crash in a module): worth another try later.
            _ => new ConnectorException(system, FailureKind.Transient, "ServerError", $"{method}: {type}"),
        };

        static string Join(string message, string description) => string.IsNullOrEmpty(description) ? message : $"{message} {description}";

        static ConnectorException Warning(ConnectorException ex, string name)
        {
            ex.Data[WarningName] = name;
            return ex;
        }
    }

    private sealed class SessionExpiredException() : Exception("Tryton session expired");
}
