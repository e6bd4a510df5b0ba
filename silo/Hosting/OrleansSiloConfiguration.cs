using System.Net;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Serialization;
using Orleans.Storage;
using RetailSync.Gateway.Configuration;
using RetailSync.Gateway.Hosting;
using RetailSync.Operations;
using RetailSync.Outbox;
using RetailSync.Platform;
using RetailSync.Silo.Storage;

namespace RetailSync.Silo.Hosting;

/// <summary>Orleans providers per hosting mode. Grain code sees the same provider names in both.</summary>
public static class OrleansSiloConfiguration
{
    public static void ConfigureEmbedded(ISiloBuilder silo, IConfiguration configuration)
    {
        silo.UseLocalhostClustering(
            siloPort: configuration.GetValue("RetailSync:Embedded:SiloPort", 11111),
            gatewayPort: configuration.GetValue("RetailSync:Embedded:GatewayPort", 30000));
        silo.Services.AddSingleton<EmbeddedGrainStorage>();
        silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.State, (sp, _) => sp.GetRequiredService<EmbeddedGrainStorage>());
        silo.Services.AddSingleton<IStoredData, EmbeddedStoredData>();
        silo.AddMemoryGrainStorage(StorageNames.PubSub);
        // Memory storage serialises every write (its default is JSON): the binary serializer, as in
        // cluster mode, keeps the stream subscriptions' writes cheap.
        silo.Services.AddOptions<MemoryGrainStorageOptions>(StorageNames.PubSub)
            .Configure<Serializer>((o, serializer) => o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer));

        silo.UseInMemoryReminderService();
        AddEventStreams(silo);
        silo.Services.AddSingleton<IOutboxIndex, GrainOutboxIndex>();
        AddOutboxSweeper(silo);
    }

    /// <summary>Starts the cluster's outbox sweeper (idempotent: every silo asks, one grain answers).</summary>
    /// <summary>
    /// The domain events' stream. Memory streams keep delivered events in their cache for rewinding (5 minutes by
    /// default); nothing here rewinds, so an event stays only as long
    /// as its delivery may take.
    /// </summary>
    public static void AddEventStreams(ISiloBuilder silo) =>
        silo.AddMemoryStreams(StorageNames.Events, streams =>
        {
            streams.ConfigureCacheEviction(eviction => eviction.Configure(c =>
            {
                c.DataMinTimeInCache = TimeSpan.FromSeconds(1);
                c.DataMaxAgeInCache = TimeSpan.FromSeconds(5);
            }));
            // Every order event is on one stream, so on one queue: each pull (every 100 ms) takes up to this many
            // records, thousands of orders' changes a second.
            streams.ConfigureCache(cache => cache.Configure(c => c.MaxAddCount = 1000));
        });

    private static void AddOutboxSweeper(ISiloBuilder silo) =>
        silo.AddStartupTask(async (services, _) =>
        {
            try
            {
                await services.GetRequiredService<IGrainFactory>().GetGrain<IOutboxSweeperGrain>("outbox").StartAsync();
            }
            catch (Exception ex)
            {
                // The sweeper is a safety net; a silo that cannot start it now still serves, and the next silo start tries again.
                services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OrleansSiloConfiguration))
                    .LogWarning(ex, "Could not start the outbox sweeper");
            }
        });

    public static void ConfigureCluster(ISiloBuilder silo, IConfiguration configuration)
    {
        var cluster = ClusterSettings.Read(configuration);
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });
        var advertised = AdvertisedAddress(configuration["RetailSync:Cluster:AdvertisedHost"] ?? "127.0.0.1");
        silo.ConfigureEndpoints(
            advertised,
            configuration.GetValue("RetailSync:Cluster:SiloPort", 11111),
            configuration.GetValue("RetailSync:Cluster:GatewayPort", 30000),
            listenOnAnyHostAddress: configuration.GetValue("RetailSync:Cluster:ListenOnAnyAddress", false));
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            // How fast a dead silo is declared dead (and its grains re-activate elsewhere): about three probe timeouts.
            o.ProbeTimeout = TimeSpan.FromSeconds(configuration.GetValue("RetailSync:Cluster:ProbeTimeoutSeconds", 5.0));
            o.ExtendProbeTimeoutDuringDegradation = configuration.GetValue("RetailSync:Cluster:ExtendProbeTimeoutWhenBusy", true);
        });
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = cluster.ConnectionString;
        });
        ClusterExceptions.Allow(silo.Services);
        if (ClusterTls.Read(configuration) is { } tls)
        {
            silo.UseTls(tls.Certificate, tls.Configure);
        }

        silo.AddAdoNetGrainStorage(StorageNames.State, o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = cluster.ConnectionString;
        });
        silo.AddAdoNetGrainStorage(StorageNames.PubSub, o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = cluster.ConnectionString;
        });
        // Orleans' binary serializer instead of the default JSON: an order's state is several KB and
        // JSON made serialisation, not PostgreSQL, the bottleneck of durable intake. Our stored types
        // carry [Id]/[Alias], so the format tolerates added fields.
        foreach (var name in new[] { StorageNames.State, StorageNames.PubSub })
        {
            silo.Services.AddOptions<AdoNetGrainStorageOptions>(name)
                .Configure<Serializer>((o, serializer) => o.GrainStorageSerializer = new PassThroughSerializer(new OrleansGrainStorageSerializer(serializer)));
        }

        // Grain state is serialized in the grain's turn (see TurnSerializedGrainStorage); this registration replaces the one above.
        silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.State, (sp, key) => new TurnSerializedGrainStorage(
            AdoNetGrainStorageFactory.Create(sp, (string)key!), new OrleansGrainStorageSerializer(sp.GetRequiredService<Serializer>())));
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = cluster.ConnectionString;
        });
        // Projections only: an entity's correctness never depends on a stream delivery.
        AddEventStreams(silo);
        silo.Services.AddSingleton<IOutboxIndex>(sp => new PostgresOutboxIndex(cluster.ConnectionString, cluster.ServiceId, sp.GetRequiredService<ILogger<PostgresOutboxIndex>>()));
        silo.Services.AddSingleton<IStoredData>(_ => new PostgresStoredData(cluster.ConnectionString, cluster.ServiceId));
        AddOutboxSweeper(silo);
    }

    /// <summary>An IP, or a host name resolved once at start (a container's service name in compose).</summary>
    private static IPAddress AdvertisedAddress(string host) =>
        IPAddress.TryParse(host, out var ip)
            ? ip
            : Dns.GetHostAddresses(host).First(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);

    /// <summary>
    /// On by default only in the embedded default: the dashboard has no sign-in and shows every grain call live,
    /// so a cluster serves it only when an operator turns it on behind their own network controls. It profiles
    /// every grain call, which is also why it can be switched off to measure without it.
    /// </summary>
    public static bool DashboardEnabled(IConfiguration configuration) =>
        configuration.GetValue("RetailSync:Dashboard:Enabled", RetailSync.Gateway.Configuration.HostingModes.Read(configuration) == RetailSync.Gateway.Configuration.HostingMode.Embedded);

    public static void ConfigureDashboard(ISiloBuilder silo, IConfiguration configuration)
    {
        if (DashboardEnabled(configuration))
        {
            silo.AddDashboard();
        }
    }
}
