using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace RetailSync.Tests.Infrastructure;

/// <summary>One embedded host (real Kestrel on a free port) shared by a test class.</summary>
public sealed class EmbeddedHostFixture : IAsyncLifetime
{
    public InProcessHost Host { get; private set; } = null!;

    public HttpClient Http => Host.Http;

    public async Task InitializeAsync() => Host = await InProcessHost.StartEmbeddedAsync(
        "--RetailSync:Dashboard:Enabled=false",
        "--RetailSync:Shops:sandbox.myshopify.com:Tenant=sandbox",
        "--RetailSync:Shops:sandbox.myshopify.com:WebhookSecret=sandbox-webhook-secret",
        "--RetailSync:Shops:sandbox.myshopify.com:PreviousWebhookSecret=old-secret-being-rotated",
        "--RetailSync:Shops:other.myshopify.com:Tenant=other",
        "--RetailSync:Shops:other.myshopify.com:WebhookSecret=other-secret",
        "--RetailSync:Shops:closing.myshopify.com:Tenant=closing",
        "--RetailSync:Shops:closing.myshopify.com:WebhookSecret=closing-secret",
        "--RetailSync:ApiKeys:0=dev-api-key",
        "--RetailSync:MaxWebhookBodyBytes=65536");

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

public static class HttpExtensions
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<(System.Net.HttpStatusCode Status, JsonElement Body)> GetApiAsync(this HttpClient http, string path, string apiKey = "dev-api-key")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<(System.Net.HttpStatusCode Status, JsonElement Body, string? MediaType)> SendJsonAsync(this HttpClient http, HttpRequestMessage request)
    {
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response.Content.Headers.ContentType?.MediaType);
    }
}
