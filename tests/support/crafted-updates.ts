/**
 * Yjs updates by hand, for tests that send what Yjs itself never writes (the same client
 * twice, a Skip, references nobody has): groups of structs, each group one client's run.
 */
import * as encoding from "lib0/encoding";
import * as Y from "yjs";

/** An update of hand-made groups of structs (each group: one client's run), and no deletions. */
export function encodeGroups(groups: readonly (readonly (Y.Item | Y.GC)[])[]): Uint8Array {
  const encoder = new Y.UpdateEncoderV1();
  encoding.writeVarUint(encoder.restEncoder, groups.length);
  for (const structs of groups) {
    encoding.writeVarUint(encoder.restEncoder, structs.length);
    encoder.writeClient(structs[0]!.id.client);
    encoding.writeVarUint(encoder.restEncoder, structs[0]!.id.clock);
    for (const struct of structs) struct.write(encoder, 0);
  }
  encoding.writeVarUint(encoder.restEncoder, 0);
  return encoder.toUint8Array();
}
