namespace AgentSidecar.Terminal.Vt;

/// <summary>
/// The byte-level state machine: Paul Williams' DEC ANSI parser (vt100.net/emu/dec_ansi_parser)
/// with UTF-8 decoding in the ground state, ':' sub-parameters accepted in CSI (for SGR colour
/// forms), and DCS / SOS / PM / APC strings swallowed whole. All state lives in fields so that any
/// sequence can be split across <see cref="Feed(ReadOnlySpan{byte})"/> calls.
/// </summary>
public sealed partial class VtScreen
{
    private const int DecimalBase = 10;

    private const byte FirstPrintable = 0x20;
    private const byte LastPrintable = 0x7E;
    private const byte LastIntermediate = 0x2F;
    private const byte FirstPrivateMarker = 0x3C;
    private const byte LastPrivateMarker = 0x3F;
    private const byte FirstFinal = 0x40;
    private const byte FirstEscFinal = 0x30;

    private ParserState _state;
    private byte _privateMarker;
    private bool _sequenceInvalid;

    private enum ParserState : byte
    {
        Ground,
        Escape,
        EscapeIntermediate,
        CsiEntry,
        CsiParam,
        CsiIntermediate,
        CsiIgnore,
        OscString,

        /// <summary>DCS, SOS, PM and APC: everything up to ST (or CAN / SUB) is dropped.</summary>
        IgnoredString,
    }

    private void InitParser() => _state = ParserState.Ground;

    private void RunParser(ReadOnlySpan<byte> data)
    {
        int index = 0;
        while (index < data.Length)
        {
            if (_state == ParserState.Ground && _utf8Remaining == 0)
            {
                // Fast path: a run of printable ASCII goes straight to the cells.
                ReadOnlySpan<byte> rest = data[index..];
                int run = rest.IndexOfAnyExceptInRange(FirstPrintable, LastPrintable);
                if (run < 0)
                {
                    run = rest.Length;
                }

                if (run > 0)
                {
                    PrintAscii(rest[..run]);
                    index += run;
                    continue;
                }
            }

            ProcessByte(data[index++]);
        }
    }

    private void ProcessByte(byte value)
    {
        if (_utf8Remaining > 0 && ContinueUtf8(value))
        {
            return;
        }

        // "Anywhere" transitions of the DEC parser.
        switch (value)
        {
            case ControlChars.Esc:
                if (_state == ParserState.OscString)
                {
                    DispatchOsc();
                }

                EnterEscape();
                return;
            case ControlChars.Can or ControlChars.Sub:
                _state = ParserState.Ground;
                return;
        }

        switch (_state)
        {
            case ParserState.Ground:
                ProcessGround(value);
                break;
            case ParserState.Escape:
                ProcessEscape(value);
                break;
            case ParserState.EscapeIntermediate:
                ProcessEscapeIntermediate(value);
                break;
            case ParserState.CsiEntry:
            case ParserState.CsiParam:
                ProcessCsiParam(value);
                break;
            case ParserState.CsiIntermediate:
                ProcessCsiIntermediate(value);
                break;
            case ParserState.CsiIgnore:
                if (value < FirstPrintable)
                {
                    Execute(value);
                }
                else if (value is >= FirstFinal and <= LastPrintable)
                {
                    _state = ParserState.Ground;
                }

                break;
            case ParserState.OscString:
                ProcessOsc(value);
                break;
            default:
                // IgnoredString: only ESC / CAN / SUB (handled above) end it.
                break;
        }
    }

    private void ProcessGround(byte value)
    {
        if (value < FirstPrintable)
        {
            Execute(value);
        }
        else if (value <= LastPrintable)
        {
            Print(value);
        }
        else if (value >= Utf8ContinuationTag)
        {
            StartUtf8(value);
        }

        // DEL is ignored.
    }

    private void EnterEscape()
    {
        _state = ParserState.Escape;
        _intermediates = 0;
        _intermediateCount = 0;
        _sequenceInvalid = false;
    }

    private void ProcessEscape(byte value)
    {
        if (value < FirstPrintable)
        {
            Execute(value);
            return;
        }

        if (value <= LastIntermediate)
        {
            Collect(value);
            _state = ParserState.EscapeIntermediate;
            return;
        }

        if (value == ControlChars.Del)
        {
            return;
        }

        switch (value)
        {
            case (byte)'[':
                EnterCsi();
                return;
            case (byte)']':
                BeginOsc();
                _state = ParserState.OscString;
                return;
            case (byte)'P' or (byte)'X' or (byte)'^' or (byte)'_':
                _state = ParserState.IgnoredString;
                return;
        }

        _state = ParserState.Ground;
        if (value <= LastPrintable)
        {
            EscDispatch(value);
        }
        else if (value >= Utf8ContinuationTag)
        {
            // Not a valid escape sequence: drop the ESC and treat the byte as text.
            ProcessGround(value);
        }
    }

    private void ProcessEscapeIntermediate(byte value)
    {
        if (value < FirstPrintable)
        {
            Execute(value);
        }
        else if (value <= LastIntermediate)
        {
            Collect(value);
        }
        else if (value is >= FirstEscFinal and <= LastPrintable)
        {
            _state = ParserState.Ground;
            EscDispatch(value);
        }
        else
        {
            _state = ParserState.Ground;
        }
    }

    private void EnterCsi()
    {
        _state = ParserState.CsiEntry;
        _paramCount = 0;
        _params[0] = 0;
        _subParamMask = 0;
        _privateMarker = 0;
        _intermediates = 0;
        _intermediateCount = 0;
        _sequenceInvalid = false;
    }

    private void ProcessCsiParam(byte value)
    {
        if (value < FirstPrintable)
        {
            Execute(value);
        }
        else if (value is >= (byte)'0' and <= (byte)'9')
        {
            AddDigit(value - '0');
        }
        else if (value is (byte)';' or (byte)':')
        {
            NextParam(isSubParam: value == (byte)':');
        }
        else if (value is >= FirstPrivateMarker and <= LastPrivateMarker)
        {
            // A private marker is only valid as the first byte of the sequence.
            if (_state == ParserState.CsiEntry)
            {
                _privateMarker = value;
                _state = ParserState.CsiParam;
            }
            else
            {
                _state = ParserState.CsiIgnore;
            }
        }
        else if (value <= LastIntermediate)
        {
            Collect(value);
            _state = ParserState.CsiIntermediate;
        }
        else if (value is >= FirstFinal and <= LastPrintable)
        {
            _state = ParserState.Ground;
            CsiDispatch(value);
        }
        else
        {
            // DEL is ignored; bytes >= 0x80 make the sequence meaningless.
            if (value != ControlChars.Del)
            {
                _state = ParserState.CsiIgnore;
            }
        }
    }

    private void ProcessCsiIntermediate(byte value)
    {
        if (value < FirstPrintable)
        {
            Execute(value);
        }
        else if (value <= LastIntermediate)
        {
            Collect(value);
        }
        else if (value is >= FirstFinal and <= LastPrintable)
        {
            _state = ParserState.Ground;
            CsiDispatch(value);
        }
        else if (value != ControlChars.Del)
        {
            _state = ParserState.CsiIgnore;
        }
    }
}
