/**
 * TextDecoder beyond UTF-8: UTF-16LE/BE, x-user-defined and the Encoding Standard's 28
 * single-byte encodings (windows-1252 = "latin1"/"ascii", ISO-8859-x, KOI8, ...), by their
 * standard labels. The multi-byte CJK encodings (GBK, gb18030, Big5, EUC-JP, ISO-2022-JP,
 * Shift_JIS, EUC-KR) are not included: their tables are ~1 MB.
 * No decoding library fits: text-encoding (deprecated) and whatwg-encoding (Node Buffers)
 * carry every table; the single-byte tables here are 3.5 K characters.
 */
import { hooks, type LegacyDecoder } from './hooks.js';
import { LABELS, SINGLE_BYTE } from './legacy-encodings-data.js';

function invalid(encoding: string): TypeError {
  return new TypeError(`The encoded data was not valid ${encoding}`);
}

function fromCodeUnits(units: Uint16Array, length: number): string {
  let s = '';
  for (let i = 0; i < length; i += 8192) s += String.fromCharCode(...units.subarray(i, Math.min(i + 8192, length)));
  return s;
}

function singleByte(encoding: string, table: string): LegacyDecoder {
  return {
    encoding,
    decode(bytes, fatal) {
      const units = new Uint16Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i];
        const c = b < 0x80 ? b : table.charCodeAt(b - 0x80);
        if (c === 0xfffd && fatal) throw invalid(encoding);
        units[i] = c;
      }
      return fromCodeUnits(units, bytes.length);
    },
  };
}

function userDefined(): LegacyDecoder {
  return {
    encoding: 'x-user-defined',
    decode(bytes) {
      const units = new Uint16Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) units[i] = bytes[i] < 0x80 ? bytes[i] : 0xf780 + bytes[i] - 0x80;
      return fromCodeUnits(units, bytes.length);
    },
  };
}

/** UTF-16 with a pending odd byte and a pending lead surrogate across streamed chunks; a BOM of its own order is dropped once. */
function utf16(bigEndian: boolean, ignoreBOM: boolean): LegacyDecoder {
  const encoding = bigEndian ? 'utf-16be' : 'utf-16le';
  let pending: number[] = [];
  let lead = -1;
  let bomChecked = ignoreBOM;
  return {
    encoding,
    decode(bytes, fatal, stream) {
      const all = pending.length ? Uint8Array.from([...pending, ...bytes]) : bytes;
      pending = [];
      const units: number[] = [];
      const bad = () => {
        if (fatal) {
          lead = -1;
          throw invalid(encoding);
        }
        units.push(0xfffd);
      };
      let i = 0;
      for (; i + 1 < all.length; i += 2) {
        const unit = bigEndian ? (all[i] << 8) | all[i + 1] : all[i] | (all[i + 1] << 8);
        if (!bomChecked) {
          bomChecked = true;
          if (unit === 0xfeff) continue;
        }
        if (lead >= 0) {
          if (unit >= 0xdc00 && unit <= 0xdfff) {
            units.push(lead, unit);
            lead = -1;
            continue;
          }
          lead = -1;
          bad();
        }
        if (unit >= 0xd800 && unit <= 0xdbff) lead = unit;
        else if (unit >= 0xdc00 && unit <= 0xdfff) bad();
        else units.push(unit);
      }
      if (i < all.length) pending = [all[i]];
      if (!stream) {
        if (lead >= 0 || pending.length) {
          lead = -1;
          pending = [];
          bad();
        }
        bomChecked = ignoreBOM;
      }
      return fromCodeUnits(Uint16Array.from(units), units.length);
    },
  };
}

hooks.legacyEncodings = {
  decoder(label, ignoreBOM) {
    const encoding = LABELS[label];
    if (!encoding) return null;
    if (encoding === 'utf-16le' || encoding === 'utf-16be') return utf16(encoding === 'utf-16be', ignoreBOM);
    if (encoding === 'x-user-defined') return userDefined();
    return singleByte(encoding, SINGLE_BYTE[encoding]);
  },
};
