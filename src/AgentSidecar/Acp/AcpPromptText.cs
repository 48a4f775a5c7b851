using System.Text;

namespace AgentSidecar.Acp;

/// <summary>
/// A <c>session/prompt</c>'s content blocks as the one message typed into the agent (docs/acp.md,
/// "session/prompt"): text as it is; a <c>resource_link</c> to a file as a file reference in the form
/// the agent understands (Claude Code's <c>@path</c>; the plain absolute path for Codex and Auggie,
/// whose tools read it); an embedded text <c>resource</c> as the reference followed by its text in a
/// fenced block. Images and audio are refused (the prompt capabilities do not offer them).
/// </summary>
internal static class AcpPromptText
{
    private const string FileScheme = "file://";

    public static string From(IReadOnlyList<ContentBlock>? blocks, string provider)
    {
        if (blocks is not { Count: > 0 })
        {
            throw AcpErrors.InvalidParams("prompt", "'prompt' must hold at least one content block");
        }

        var parts = new List<string>();
        for (var i = 0; i < blocks.Count; i++)
        {
            var block = blocks[i];
            switch (block.Type)
            {
                case "text":
                    parts.Add(block.Text ?? string.Empty);
                    break;
                case "resource_link":
                    parts.Add(Reference(block.Uri ?? block.Name ?? string.Empty, provider));
                    break;
                case "resource" when block.Resource is { } r:
                    var reference = Reference(r.Uri ?? string.Empty, provider);
                    parts.Add(r.Text is { } text ? $"{reference}\n```\n{text.TrimEnd('\n')}\n```" : reference);
                    break;
                default:
                    throw AcpErrors.InvalidParams($"prompt[{i}].type", $"content of type '{block.Type}' is not supported here (text, resource_link and resource are)");
            }
        }

        var message = Clean(string.Join(' ', parts.Where(p => p.Length > 0)));
        return message.Trim().Length == 0 ? throw AcpErrors.InvalidParams("prompt", "the prompt has no text") : message;
    }

    /// <summary>A file URI as a path (<c>file:///a/b%20c</c> → <c>/a/b c</c>); other URIs as they are.</summary>
    internal static string PathOf(string uri) =>
        uri.StartsWith(FileScheme, StringComparison.OrdinalIgnoreCase) && Uri.TryCreate(uri, UriKind.Absolute, out var u) ? u.LocalPath : uri;

    private static string Reference(string uri, string provider)
    {
        var path = PathOf(uri);
        return provider == "claude" && path.StartsWith('/') ? "@" + path : path;
    }

    /// <summary>
    /// The message goes inside a bracketed paste, so the sidecar refuses control characters other
    /// than tab and line breaks: CR LF becomes LF, the others are left out.
    /// </summary>
    private static string Clean(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text.Replace("\r\n", "\n", StringComparison.Ordinal))
        {
            if (c is '\n' or '\t' || !(char.IsControl(c) || c is >= '\u0080' and <= '\u009f'))
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }
}
