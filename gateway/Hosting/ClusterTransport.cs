using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Connections.Security;
using Orleans.Serialization;
using RetailSync.Gateway.Configuration;

namespace RetailSync.Gateway.Hosting;

/// <summary>
/// Mutual TLS between silos, and between silos and gateways, when <c>RetailSync:Cluster:Tls:CertificatePath</c> is set:
/// every node presents the cluster's certificate (PKCS#12) and accepts only a peer whose certificate is pinned, its
/// own or one of <c>TrustedThumbprints</c> (two while a certificate is rotated). Pinning is why chain and name errors
/// are not asked about: a self-signed cluster certificate is the ordinary case and nothing else is trusted.
/// </summary>
public sealed class ClusterTls
{
    public const string Section = "RetailSync:Cluster:Tls";

    private readonly HashSet<string> trusted;

    private ClusterTls(X509Certificate2 certificate, IEnumerable<string> trustedThumbprints)
    {
        Certificate = certificate;
        trusted = new HashSet<string>(trustedThumbprints.Append(certificate.Thumbprint).Select(Normalise), StringComparer.Ordinal);
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>The settings, or null when TLS is not configured; a configured certificate that cannot be read throws.</summary>
    public static ClusterTls? Read(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var path = section["CertificatePath"];
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, section["CertificatePassword"]);
        if (!certificate.HasPrivateKey)
        {
            throw new InvalidOperationException($"{Section}:CertificatePath ({path}) holds no private key: a node cannot prove it is the cluster's.");
        }

        return new ClusterTls(certificate, section.GetSection("TrustedThumbprints").Get<string[]>() ?? []);
    }

    public bool Trusts(X509Certificate2? remote) => remote is not null && trusted.Contains(Normalise(remote.Thumbprint));

    public void Configure(TlsOptions options)
    {
        options.LocalCertificate = Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = (remote, _, _) => Trusts(remote);
        options.OnAuthenticateAsClient = (_, ssl) => ssl.TargetHost = Certificate.GetNameInfo(X509NameType.SimpleName, false);
    }

    private static string Normalise(string thumbprint) => thumbprint.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
}

/// <summary>What a gateway (or any other Orleans client of a cluster) needs to reach it.</summary>
public static class ClusterClient
{
    public static void Configure(IClientBuilder client, IConfiguration configuration)
    {
        var cluster = ClusterSettings.Read(configuration);
        client.Configure<Orleans.Configuration.ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = cluster.ConnectionString;
        });
        ClusterExceptions.Allow(client.Services);
        if (ClusterTls.Read(configuration) is { } tls)
        {
            client.UseTls(tls.Certificate, tls.Configure);
        }
    }
}

/// <summary>
/// Orleans carries an exception to a remote caller only from namespaces it is told of (Microsoft, System and Azure by
/// default). A PostgreSQL error otherwise arrived as a codec that could not be found, and that is what the webhook
/// inbox stored as the reason; with Npgsql allowed the caller sees PostgreSQL's own code and message.
/// </summary>
public static class ClusterExceptions
{
    public static void Allow(IServiceCollection services) =>
        services.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("Npgsql"));
}
