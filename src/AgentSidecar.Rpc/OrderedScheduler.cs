namespace AgentSidecar.Rpc;

/// <summary>
/// Runs work items with the same key one after another, in the order they were queued, and work
/// with different keys concurrently. Shared by all connections, so two clients typing into the
/// same worker are serialised too.
/// </summary>
public sealed class OrderedScheduler
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Queue<Func<Task>>> _queues = new(StringComparer.Ordinal);

    /// <summary>Runs <paramref name="work"/> after the work queued before it under <paramref name="key"/>.</summary>
    public Task<T> RunAsync<T>(string key, Func<Task<T>> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(key, async () =>
        {
            try
            {
                done.SetResult(await work().ConfigureAwait(false));
            }
            catch (OperationCanceledException ex)
            {
                done.SetCanceled(ex.CancellationToken);
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        });
        return done.Task;
    }

    public void Enqueue(string key, Func<Task> work)
    {
        lock (_lock)
        {
            if (_queues.TryGetValue(key, out var queue))
            {
                queue.Enqueue(work);
                return;
            }

            queue = new Queue<Func<Task>>();
            queue.Enqueue(work);
            _queues.Add(key, queue);
        }

        _ = Task.Run(() => DrainAsync(key));
    }

    private async Task DrainAsync(string key)
    {
        while (true)
        {
            Func<Task> work;
            lock (_lock)
            {
                var queue = _queues[key];
                if (queue.Count == 0)
                {
                    _queues.Remove(key);
                    return;
                }

                work = queue.Peek();
            }

            try
            {
                await work().ConfigureAwait(false);
            }
            catch
            {
                // Work items report their own failures; one failing item never stops the queue.
            }

            lock (_lock)
            {
                _queues[key].Dequeue();
            }
        }
    }
}
