// Feeds VtScreen(80, 24) with generated output in 64 KiB chunks and prints the best MB/s per case.
//   VtFeed [megabytes=200] [rounds=3] [case...]   cases: flood lines sgr unicode repbomb (default: all
//   but repbomb, which is slow on builds before the bounded REP: run it alone with a few megabytes)
// Each case also prints a fingerprint of the final screen and scrollback, so that two builds can be
// checked to produce the same screen (compare.sh runs a base commit's build against the working tree).
using System.Diagnostics;
using System.Globalization;
using System.Text;
using AgentSidecar.Terminal.Vt;

const int ChunkBytes = 64 * 1024;
const double Megabyte = 1_000_000;

int megabytes = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
string[] cases = args.Length > 2 ? args[2..] : ["flood", "lines", "sgr", "unicode"];
long totalBytes = (long)megabytes * 1024 * 1024;

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# VtFeed {megabytes} MiB x {rounds} rounds, loadavg {File.ReadAllText("/proc/loadavg").Trim()}"));
foreach (string name in cases)
{
    byte[] source = Generate(name);

    // Warm-up for at least a second, so that tiered JIT (whose background compiles wait on a
    // loaded machine) has settled before the timed rounds.
    var warmUp = Stopwatch.StartNew();
    while (warmUp.Elapsed < TimeSpan.FromSeconds(1))
    {
        Run(source, 16L * 1024 * 1024);
    }

    var rates = new List<double>();
    string fingerprint = string.Empty;
    for (int round = 0; round < rounds; round++)
    {
        var stopwatch = Stopwatch.StartNew();
        VtScreen screen = Run(source, totalBytes);
        stopwatch.Stop();
        rates.Add(totalBytes / Megabyte / stopwatch.Elapsed.TotalSeconds);
        fingerprint = Fingerprint(screen);
    }

    string all = string.Join(", ", rates.Select(rate => rate.ToString("F1", CultureInfo.InvariantCulture)));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-8} best {rates.Max(),8:F1} MB/s  rounds [{all}]  screen {fingerprint}"));
}

static VtScreen Run(byte[] source, long totalBytes)
{
    var screen = new VtScreen(80, 24);
    int offset = 0;
    for (long fed = 0; fed < totalBytes; fed += ChunkBytes)
    {
        // The source is a whole number of chunks, so a chunk never wraps around its end.
        screen.Feed(source.AsSpan(offset, ChunkBytes));
        offset = (offset + ChunkBytes) % source.Length;
    }

    return screen;
}

// 4 MiB of continuous output (lines and sequences cross chunk boundaries, as they do from a PTY).
static byte[] Generate(string name)
{
    const int SourceBytes = 64 * ChunkBytes;
    var random = new Random(1);
    var text = new StringBuilder(SourceBytes + 256);
    int line = 0;
    // UTF-8 has at least as many bytes as UTF-16 chars, so this yields at least SourceBytes bytes.
    while (text.Length < SourceBytes)
    {
        switch (name)
        {
            case "flood":
                // Plain 'x' without newlines: autowrap every 80 columns, one scroll per line.
                text.Append('x', SourceBytes);
                break;
            case "lines":
                // ~60 printable characters then CRLF, like log output.
                text.Append(CultureInfo.InvariantCulture, $"{line++:D6} ");
                AppendWords(text, random, 53);
                text.Append("\r\n");
                break;
            case "sgr":
                // The same, with a few colour changes per line (16-colour, 256-colour, bold, reset).
                text.Append(CultureInfo.InvariantCulture, $"\e[32m{line++:D6}\e[0m \e[1;33mWARN\e[0m ");
                AppendWords(text, random, 20);
                text.Append(CultureInfo.InvariantCulture, $" \e[38;5;{random.Next(16, 256)}m");
                AppendWords(text, random, 20);
                text.Append("\e[39m ok\r\n");
                break;
            case "unicode":
                // UTF-8 text with accents, combining marks, wide CJK and emoji.
                text.Append(CultureInfo.InvariantCulture, $"{line++:D6} caf\u00e9 e\u0301\u0302 \u6f22\u5b57\u304b\u306a \U0001F600 ");
                AppendWords(text, random, 30);
                text.Append("\r\n");
                break;
            case "repbomb":
                // Issue 16's repeat bomb: a character and REP 65535 (9 bytes asking for 65,535 cells).
                text.Append("a\e[65535b");
                break;
            default:
                throw new ArgumentException($"unknown case '{name}' (flood, lines, sgr, unicode, repbomb)");
        }
    }

    byte[] bytes = Encoding.UTF8.GetBytes(text.ToString());
    return bytes[..SourceBytes];
}

static void AppendWords(StringBuilder text, Random random, int length)
{
    for (int i = 0; i < length; i++)
    {
        text.Append(random.Next(6) == 0 ? ' ' : (char)random.Next('a', 'z' + 1));
    }
}

// FNV-1a over the visible screen, the scrollback, the cursor and every cell's style and marks.
static string Fingerprint(VtScreen screen)
{
    ulong hash = 14695981039346656037UL;
    void Add(string value)
    {
        foreach (char c in value)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        hash = (hash ^ '\n') * 1099511628211UL;
    }

    foreach (string line in screen.Scrollback)
    {
        Add(line);
    }

    for (int row = 0; row < screen.Rows; row++)
    {
        Add(screen.GetLine(row));
        for (int col = 0; col < screen.Cols; col++)
        {
            VtCell cell = screen.GetCell(row, col);
            Add(string.Create(CultureInfo.InvariantCulture, $"{cell.CodePoint} {cell.Style} {cell.Combining}"));
        }
    }

    Add(screen.Cursor.ToString());
    return string.Create(CultureInfo.InvariantCulture, $"{hash:x16} ({screen.Scrollback.Count} scrollback lines)");
}
