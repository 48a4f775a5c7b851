using System.Text;

namespace AgentSidecar.Terminal.Vt;

/// <summary>OSC strings: collected as raw bytes, decoded as UTF-8 when complete, and handed to <see cref="OscReceived"/>.</summary>
public sealed partial class VtScreen
{
    /// <summary>Longer OSC strings (e.g. huge OSC 52 clipboard writes) are dropped rather than buffered without bound.</summary>
    private const int MaxOscLength = 64 * 1024;
    private const int InitialOscCapacity = 256;
    private const int NonNumericOscCode = -1;
    private const int MaxOscCodeDigits = 9;
    private const int OscSetIconAndTitle = 0;
    private const int OscSetTitle = 2;

    private byte[] _oscBuffer = new byte[InitialOscCapacity];
    private int _oscLength;
    private bool _oscOverflow;

    private void BeginOsc()
    {
        _oscLength = 0;
        _oscOverflow = false;
    }

    private void ProcessOsc(byte value)
    {
        if (value == ControlChars.Bel)
        {
            DispatchOsc();
            _state = ParserState.Ground;
            return;
        }

        if (value < FirstPrintable || _oscOverflow)
        {
            // Other C0 controls inside an OSC string are ignored, as in xterm.
            return;
        }

        if (_oscLength == _oscBuffer.Length)
        {
            if (_oscLength >= MaxOscLength)
            {
                _oscOverflow = true;
                return;
            }

            Array.Resize(ref _oscBuffer, Math.Min(_oscBuffer.Length * 2, MaxOscLength));
        }

        _oscBuffer[_oscLength++] = value;
    }

    private void DispatchOsc()
    {
        _lastPrintedCodePoint = NoLastPrinted;
        if (_oscOverflow)
        {
            return;
        }

        ReadOnlySpan<byte> data = _oscBuffer.AsSpan(0, _oscLength);
        int separator = data.IndexOf((byte)';');
        ReadOnlySpan<byte> codeBytes = separator < 0 ? data : data[..separator];
        ReadOnlySpan<byte> payloadBytes = separator < 0 ? [] : data[(separator + 1)..];
        int code = ParseOscCode(codeBytes);
        string payload = Encoding.UTF8.GetString(payloadBytes);

        if (code is OscSetIconAndTitle or OscSetTitle)
        {
            Title = payload;
            _changed = true;
        }

        OscReceived?.Invoke(code, payload);
    }

    private static int ParseOscCode(ReadOnlySpan<byte> digits)
    {
        if (digits.IsEmpty || digits.Length > MaxOscCodeDigits)
        {
            return NonNumericOscCode;
        }

        int code = 0;
        foreach (byte digit in digits)
        {
            if (digit is < (byte)'0' or > (byte)'9')
            {
                return NonNumericOscCode;
            }

            code = (code * DecimalBase) + (digit - '0');
        }

        return code;
    }
}
