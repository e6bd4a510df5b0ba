using Microsoft.Extensions.Options;
using RetailSync.Connectors;
using RetailSync.Intake;
using RetailSync.Platform;

namespace RetailSync.Operations;

public sealed partial class OutboundCommandGrain(
    [PersistentState("command", StorageNames.State)] IPersistentState<OutboundCommandState> state,
    OutboundExecutor executor,
    IOptions<OutboundOptions> options,
    TimeProvider clock,
    ILogger<OutboundCommandGrain> logger) : Grain, IOutboundCommandGrain, IRemindable
{
    private const string ResumeReminder = "resume";
    private IGrainTimer? timer;
    private bool reminderRegistered;
    private OutboundCommandState S => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Reactivated after a crash or a move with work left: carry on, or tell the owner again.
        if (S.Command is not null && S.Status is CommandStatus.Pending or CommandStatus.Retrying)
        {
            Schedule(TimeSpan.Zero);
        }
        else if (OwnerNotYetAcknowledged)
        {
            _ = TellOwnerAsync();
        }

        return Task.CompletedTask;
    }

    private bool OwnerNotYetAcknowledged =>
        S.Command?.ReplyTo is not null && S.Status is CommandStatus.Succeeded or CommandStatus.Failed && !S.Acknowledged;

    public async Task AcknowledgeAsync()
    {
        if (!S.Acknowledged)
        {
            S.Acknowledged = true;
            await this.WriteOrForgetAsync(state);
            await ForgetReminderAsync();
        }
    }

    public async Task<CommandView> SubmitAsync(OutboundCommand command)
    {
        if (S.Command is null)
        {
            S.Command = command;
            S.Status = CommandStatus.Pending;
            await this.WriteOrForgetAsync(state);
        }

        // Also on a repeated submit: an earlier turn may have stored the command and then failed
        // before it started it (the reminder registration can fail while a silo dies).
        if (S.Status is CommandStatus.Pending or CommandStatus.Retrying && timer is null)
        {
            Schedule(TimeSpan.Zero);
        }

        if (!reminderRegistered && S.Status is CommandStatus.Pending or CommandStatus.Retrying)
        {
            await this.RegisterOrUpdateReminder(ResumeReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
            reminderRegistered = true;
        }

        return View();
    }

    public async Task<CommandView> RetryAsync()
    {
        if (S.Command is not null && S.Status != CommandStatus.Succeeded)
        {
            S.Status = CommandStatus.Retrying;
            S.Acknowledged = false;
            await RunAsync();
        }

        return View();
    }

    public Task<CommandView?> GetAsync() => Task.FromResult(S.Command is null ? null : View());

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (S.Status is CommandStatus.Pending or CommandStatus.Retrying && timer is null)
        {
            Schedule(TimeSpan.Zero);
        }
        else if (OwnerNotYetAcknowledged)
        {
            await TellOwnerAsync();
        }
        else if (S.Status is CommandStatus.Succeeded or CommandStatus.Failed)
        {
            await ForgetReminderAsync();
        }
    }

    private void Schedule(TimeSpan due)
    {
        timer?.Dispose();
        timer = this.RegisterGrainTimer(async _ =>
        {
            timer?.Dispose();
            timer = null;
            await RunAsync();
        }, new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private async Task RunAsync()
    {
        var key = this.GetPrimaryKeyString();
        S.Attempts++;
        try
        {
            var result = await executor.ExecuteAsync(S.Command!, CancellationToken.None);
            S.Result = result.Summary;
            S.ExternalId = result.ExternalId;
            S.ExternalStatus = result.ExternalStatus;
            S.Status = CommandStatus.Succeeded;
            S.LastError = null;
            S.NextAttemptAt = null;
            await this.WriteOrForgetAsync(state);
            if (S.Command!.ReplyTo is null)
            {
                await ForgetReminderAsync();
            }

            if (S.ExceptionRaised)
            {
                await GrainFactory.GetGrain<IExceptionQueueGrain>("ops").ResolveAsync(key, $"succeeded on attempt {S.Attempts}");
            }

            await TellOwnerAsync();
            return;
        }
        catch (ConnectorException ex) when (ex.Kind != FailureKind.Permanent && S.Attempts < options.Value.MaxAttempts)
        {
            S.Status = CommandStatus.Retrying;
            S.LastError = ex.Message;
            var delay = Backoff(S.Attempts);
            S.NextAttemptAt = clock.GetUtcNow() + delay;
            await this.WriteOrForgetAsync(state);
            LogRetrying(logger, key, S.Attempts, delay.TotalMilliseconds, ex.Message);
            Schedule(delay);
            return;
        }
        catch (ConnectorException ex)
        {
            S.Status = CommandStatus.Failed;
            S.LastError = ex.Message;
            await RaiseAsync(key, ex.System, ex.VendorCode, ex.VendorMessage);
        }
        catch (Exception ex) when (S.Attempts < options.Value.MaxAttempts)
        {
            // Not a classified vendor failure (a bug, a network oddity): retry, and keep the evidence.
            S.Status = CommandStatus.Retrying;
            S.LastError = ex.GetType().Name + ": " + ex.Message;
            S.NextAttemptAt = clock.GetUtcNow() + Backoff(S.Attempts);
            await this.WriteOrForgetAsync(state);
            Schedule(Backoff(S.Attempts));
            return;
        }
        catch (Exception ex)
        {
            S.Status = CommandStatus.Failed;
            S.LastError = ex.Message;
            await RaiseAsync(key, S.Command!.System, ex.GetType().Name, ex.Message);
        }
    }

    private Task TellOwnerAsync() =>
        S.Command?.ReplyTo is { } owner ? GrainFactory.GetGrain<ICommandOwner>(GrainId.Parse(owner)).CommandEndedAsync(View()) : Task.CompletedTask;

    private async Task RaiseAsync(string key, string system, string? code, string message)
    {
        S.NextAttemptAt = null;
        S.ExceptionRaised = true;
        S.VendorCode = code;
        await this.WriteOrForgetAsync(state);
        if (S.Command!.ReplyTo is null)
        {
            await ForgetReminderAsync();
        }

        await GrainFactory.GetGrain<IExceptionQueueGrain>("ops").RaiseAsync(new OpsException(
            key, system, S.Command!.Operation, S.Command.Payload, code, message, S.Attempts, S.Command.CorrelationId, key,
            clock.GetUtcNow(), "Open", null, null));
        await TellOwnerAsync();
    }

    private async Task ForgetReminderAsync()
    {
        if (await this.GetReminder(ResumeReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private TimeSpan Backoff(int attempt) => options.Value.Backoff(attempt);

    private CommandView View() => new(this.GetPrimaryKeyString(), S.Command!, S.Status, S.Attempts, S.LastError, S.Result, S.NextAttemptAt, S.ExternalId, S.ExternalStatus, S.VendorCode);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbound command {Key}: attempt {Attempt} failed transiently, next in {DelayMs} ms: {Error}")]
    private static partial void LogRetrying(ILogger logger, string key, int attempt, double delayMs, string error);
}

[GenerateSerializer, Alias("RetailSync.Operations.OutboundCommandState")]
public sealed class OutboundCommandState
{
    [Id(0)] public OutboundCommand? Command { get; set; }
    [Id(1)] public string Status { get; set; } = CommandStatus.Pending;
    [Id(2)] public int Attempts { get; set; }
    [Id(3)] public string? LastError { get; set; }
    [Id(4)] public string? Result { get; set; }
    [Id(5)] public DateTimeOffset? NextAttemptAt { get; set; }
    [Id(6)] public bool ExceptionRaised { get; set; }
    [Id(7)] public string? ExternalId { get; set; }
    [Id(8)] public string? ExternalStatus { get; set; }
    [Id(9)] public string? VendorCode { get; set; }
    [Id(10)] public bool Acknowledged { get; set; }
}
