/**
 * The payload a held SQS message stands for (docs/design.md#hold-and-release). The SQS invoker
 * sends `payloadText(payload)` as the body (src/client/invokers/invoker.ts): a string as it is,
 * bytes as UTF-8, anything else as JSON.stringify. Decoding is its inverse wherever the body
 * tells: a body that is JSON.stringify's own output of an object, array, number, true, false or
 * null becomes that value again; any other text (not JSON, JSON with other spacing, or a JSON
 * string literal, which only a string payload can have produced) stays the string. So `payloadText(decodeBody(b)) === b` for every body: a target that
 * takes text (Lambda, SQS, SNS, https) receives the bytes the held call would have sent, and one
 * that needs a value (DynamoDB's item) gets the object. What cannot be told apart is a payload
 * that was the string '{"a":1}' from the object {a: 1}; they are replayed as the object.
 */
export function decodeBody(body: string): unknown {
  // Cheap test first: JSON.stringify's text of a non-string starts with { [ - a digit, t, f or n.
  if (!/^[[{\-0-9tfn]/.test(body)) return body;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return body;
  }
  if (typeof value === 'string') return body;
  return JSON.stringify(value) === body ? value : body;
}
