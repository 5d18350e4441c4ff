export { Cursor, Flag, Hdr } from './cursor.js';
export { WireError } from './errors.js';
export type { DecodedMessage, DecodedRecord, QueryOptions } from './message.js';
export { decodeMessage, encodeQuery } from './message.js';
export { className, opcodeName, rcodeName, typeCode, typeName } from './mnemonics.js';
export { escapeLabel, MAX_LABEL, MAX_NAME_WIRE, parseName, presentName, readName } from './name.js';
export type { EdnsInfo, HeaderInfo, ParsedQuery, QueryParse } from './query.js';
export { parseQuery } from './query.js';
export type { AssembleOptions, ReadyAnswer } from './response.js';
export { assembleResponse, encodeReady, errorResponse } from './response.js';
export { FrameDecoder, frame, frameAll } from './tcp.js';
export type {
  CnameRecord,
  DnsRecord,
  NsRecord,
  RcodeValue,
  RecordType,
  Reply,
  SoaRecord,
  TxtRecord,
  UriRecord,
} from './types.js';
export { Class, MAX_CNAME_CHAIN, Opcode, Rcode, Type } from './types.js';
export type { UriData } from './uri.js';
export { decodeUriRdata, encodeUriRdata } from './uri.js';
