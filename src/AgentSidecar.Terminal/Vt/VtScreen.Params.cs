namespace AgentSidecar.Terminal.Vt;

/// <summary>Collection of CSI parameters (with ':' sub-parameters) and intermediate bytes.</summary>
public sealed partial class VtScreen
{
    private const int MaxParams = 32;
    private const int MaxParamValue = 65_535;
    private const int MaxIntermediates = 2;
    private const int IntermediateBits = 8;

    private readonly int[] _params = new int[MaxParams];
    private uint _subParamMask;
    private int _paramCount;
    private int _intermediates;
    private int _intermediateCount;

    private void AddDigit(int digit)
    {
        if (_paramCount == 0)
        {
            _paramCount = 1;
            _params[0] = 0;
        }

        _state = ParserState.CsiParam;
        ref int current = ref _params[_paramCount - 1];
        current = Math.Min((current * DecimalBase) + digit, MaxParamValue);
    }

    private void NextParam(bool isSubParam)
    {
        if (_paramCount == 0)
        {
            _paramCount = 1;
            _params[0] = 0;
        }

        _state = ParserState.CsiParam;
        if (_paramCount >= MaxParams)
        {
            // Further parameters are dropped; digits keep accumulating into the last one (capped).
            return;
        }

        _params[_paramCount] = 0;
        if (isSubParam)
        {
            _subParamMask |= 1u << _paramCount;
        }

        _paramCount++;
    }

    private void Collect(byte value)
    {
        if (_intermediateCount >= MaxIntermediates)
        {
            _sequenceInvalid = true;
            return;
        }

        _intermediates |= value << (IntermediateBits * _intermediateCount);
        _intermediateCount++;
    }

    /// <summary>Parameter <paramref name="index"/>, or <paramref name="defaultValue"/> when missing or 0.</summary>
    private int Param(int index, int defaultValue)
    {
        if (index >= _paramCount)
        {
            return defaultValue;
        }

        int value = _params[index];
        return value == 0 ? defaultValue : value;
    }

    /// <summary>True when parameter <paramref name="index"/> was introduced by ':' rather than ';'.</summary>
    private bool IsSubParam(int index) => index < _paramCount && (_subParamMask & (1u << index)) != 0;
}
