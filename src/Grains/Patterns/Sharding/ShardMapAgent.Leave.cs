using Microsoft.Extensions.Logging;
using Orleans.Runtime.Placement;

namespace Orleans.Patterns.Sharding;

/// <summary>
/// A graceful leave: a stopping silo marks itself as leaving in the Raft store (so the proposer stops counting it),
/// commits a map without itself, and migrates its users to their new owners live, before Orleans deactivates them.
/// Users of a crashed silo cannot be handed over; they come back from storage on their next call.
/// </summary>
internal sealed partial class ShardMapAgent
{
    private static readonly TimeSpan LeaveDeadline = TimeSpan.FromSeconds(5);
    private bool _leaveMarkCleared;

    /// <summary>The Raft key holding the names of the silos that are leaving, comma-separated and sorted.</summary>
    private string LeavingKey => _options.RaftKey + "/leaving";

    private async Task<IReadOnlySet<string>> ReadLeavingAsync(RaftSession raft, CancellationToken cancellationToken) =>
        ParseLeaving((await raft.Client.GetAsync(LeavingKey, cancellationToken)).Value);

    private static HashSet<string> ParseLeaving(string? value) =>
        new(string.IsNullOrEmpty(value) ? [] : value.Split(','), StringComparer.Ordinal);

    /// <summary>Adds this silo to, or removes it from, the leaving set, by compare-and-swap; a few tries under contention.</summary>
    private async Task SetLeavingAsync(RaftSession raft, bool leaving, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var read = await raft.Client.GetAsync(LeavingKey, cancellationToken);
            var names = ParseLeaving(read.Value);
            if (!(leaving ? names.Add(_localSilo.Name) : names.Remove(_localSilo.Name)))
            {
                return; // already so
            }

            var next = string.Join(',', names.Order(StringComparer.Ordinal));
            if ((await raft.Client.CompareAndSwapAsync(LeavingKey, read.Value, next, cancellationToken)).Applied)
            {
                return;
            }
        }
    }

    private async Task LeaveAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(LeaveDeadline);
        var token = deadline.Token;
        var local = _localSilo.Name;
        var handed = 0;
        try
        {
            var members = DesiredMembers();
            if (!members.Any(m => m != local))
            {
                return; // the last silo keeps its users
            }

            var raft = SessionFor(members);
            await SetLeavingAsync(raft, leaving: true, token);
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var read = await raft.Client.GetAsync(_options.RaftKey, token);
                if (read.Value is not { } text)
                {
                    return;
                }

                var committed = new MapState(ShardMapCodec.Decode(text), text, "raft");
                Adopt(committed);
                if (!committed.Map.Contains(local))
                {
                    break;
                }

                var next = _allocator.Allocate(committed.Map.Members.Where(m => m != local), _options.ShardCount, committed.Map);
                await ProposeAsync(raft, committed, next, $"{local} leaving", token);
                if (Current is { } adopted && !adopted.Contains(local))
                {
                    break;
                }
            }

            // Every user at once: a leave cannot wait for throttled rounds.
            if (Current is not { } map || map.Contains(local))
            {
                return;
            }

            foreach (var user in _registry.Users)
            {
                if (AddressOf(map.OwnerOfHash(user.Hash)) is { } target && user.TryStartMove())
                {
                    // No token of ours: the deactivation outlives this round (and its token source), and Orleans bounds it itself.
                    user.Context.Migrate(new Dictionary<string, object> { [IPlacementDirector.PlacementHintKey] = target }, CancellationToken.None);
                    Interlocked.Increment(ref _usersMoved);
                    handed++;
                }
            }

            while (_registry.ActiveUsers > 0 && !token.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            LogLeft(handed, _registry.ActiveUsers);
        }
        catch (Exception e) when (e is not OperationCanceledException || token.IsCancellationRequested)
        {
            // No quorum, or out of time: the users left here come back from storage on their next call.
            LogLeaveIncomplete(e, handed, _registry.ActiveUsers, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Leaving: handed {Users} users to their new owners live; {Left} still here")]
    private partial void LogLeft(int users, int left);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leaving: hand-off incomplete after {Users} users, {Left} still here: {Reason}")]
    private partial void LogLeaveIncomplete(Exception exception, int users, int left, string reason);
}
