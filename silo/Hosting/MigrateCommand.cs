using RetailSync.Gateway.Configuration;
using RetailSync.Silo.Storage;
using RetailSync.Storage;

namespace RetailSync.Silo.Hosting;

/// <summary><c>dotnet run --project silo -- migrate</c>: applies the schema and exits.</summary>
public static class MigrateCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var configuration = new ConfigurationBuilder()
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();
        var connectionString = ClusterSettings.Read(configuration).ConnectionString;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await Console.Error.WriteLineAsync($"{ClusterSettings.ConnectionStringKey} is missing (env RetailSync__Cluster__ConnectionString).");
            return 2;
        }

        var applied = await SchemaMigrator.MigrateAsync(connectionString);
        Console.WriteLine(applied.Count == 0 ? "Schema up to date." : "Applied: " + string.Join(", ", applied));
        return 0;
    }
}
