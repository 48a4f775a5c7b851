using AgentSidecar.Core.Providers;
using AgentSidecar.Store;

namespace AgentSidecar.Core.Sessions;

/// <summary>
/// <c>session/import</c>: the agent's own conversations for a workspace (its transcript files), each
/// recorded once as a suspended session with its messages as chat history, ready to resume.
/// </summary>
internal sealed class TranscriptImport(SessionContext ctx)
{
    private const int MaxTitleChars = 80;

    /// <summary>Imports what is new; conversations already recorded are returned as they are.</summary>
    public async Task<IReadOnlyList<SessionView>> ImportAsync(string workspace, string providerId)
    {
        var ws = Workspace.Validate(workspace);
        var provider = ProviderResolver.Profile(ctx.Providers, providerId);
        if (provider.Transcript is not { Reader.Length: > 0 } t)
        {
            throw new SidecarException(SidecarError.ProviderUnavailable, $"provider '{providerId}' keeps no transcripts, so there is nothing to import");
        }

        var result = new List<SessionView>();
        foreach (var file in Transcripts.TranscriptLocator.ListForWorkspace(t.Reader, ctx.Providers.Expand(t.Dir, provider.Env), ws))
        {
            if (file.AgentSessionId is not { Length: > 0 } agentId)
            {
                continue;
            }

            if (ctx.Store.FindByAgentSession(provider.Id, agentId) is { } known)
            {
                result.Add(ctx.Get(known.Id));
                continue;
            }

            var created = file.Created.ToUnixTimeMilliseconds();
            var row = new SessionRow
            {
                Id = SessionIds.New(),
                Key = $"{provider.Id}:{ws}:",
                Workspace = ws,
                Provider = provider.Id,
                Kind = SessionKinds.Quick,
                Status = SessionStatuses.Suspended,
                StatusReason = "imported",
                Title = Title(file.FirstUserMessage),
                CreatedAt = created,
                UpdatedAt = ctx.Now(),
                AgentSessionId = agentId,
                Cols = ctx.Options.DefaultCols,
                Rows = ctx.Options.DefaultRows,
                LastActivityAt = created,
            };
            var items = ReadWholeTranscript(t.Reader, file.Path);
            await ctx.Writer.WriteAsync(w =>
            {
                w.InsertSession(row);
                w.Append(Events.Events.Status(row.Id, SessionStatuses.Suspended, "imported", null));
                var turn = 0;
                foreach (var item in items)
                {
                    switch (item)
                    {
                        case Transcripts.UserMessage u:
                            turn++;
                            w.Append(Chat.ChatEvents.User(row.Id, $"import-{turn}", u.Text, "import"));
                            break;
                        case Transcripts.AssistantMessage a:
                            w.Append(Chat.ChatEvents.Message(row.Id, $"import-{Math.Max(turn, 1)}", a.Text, "import"));
                            break;
                    }
                }

                return 0;
            }).ConfigureAwait(false);
            var view = ctx.ViewStored(ctx.GetRow(row.Id));
            ctx.NotifyChanged(view);
            result.Add(view);
        }

        return result;
    }

    private static IReadOnlyList<Transcripts.TranscriptItem> ReadWholeTranscript(string kind, string path)
    {
        try
        {
            return Transcripts.TranscriptReaders.Open(kind, path).ReadNew();
        }
        catch (IOException)
        {
            return [];
        }
    }

    private static string? Title(string? firstMessage)
    {
        if (firstMessage is null)
        {
            return null;
        }

        var line = firstMessage.Split('\n', 2)[0].Trim();
        return line.Length <= MaxTitleChars ? line : string.Concat(line.AsSpan(0, MaxTitleChars - 3), "...");
    }
}
