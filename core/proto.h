/* Client/server protocol over the session's unix socket.
 * Frame: 4-byte big-endian payload length, then that many bytes of one JSON
 * object. Every message has "t" (type). Version PROTO_VERSION; the server
 * refuses a hello with another major version.
 *
 * client -> server
 *   {"t":"hello","v":1,"read_only":false,"cols":160,"rows":48,"interactive":true}
 *       "snapshot":false (one-shot verbs): welcome and synced only, no
 *       snapshot and no event stream
 *   {"t":"intent","id":7,"name":"note","args":{"text":"..."}}
 *   {"t":"focus","focus":"timeline:api@2.4"}            (ephemeral, for follow)
 * server -> client
 *   {"t":"welcome","v":1,"user":"bob","client":3,"operator":true,"server_pid":N}
 *   {"t":"events","lines":"<jsonl>"}   snapshot chunks of whole journal lines,
 *                                      oldest first (or "events":[...])
 *   {"t":"synced","seq":N}             end of snapshot; stream follows
 *   {"t":"event","event":{...}}        one journaled event, after fsync
 *   {"t":"ephemeral","series":[...],"backends":[...],"clients":[...]}
 *   {"t":"reply","id":7,"ok":true,"result":{...}} / {"ok":false,"error":"..."}
 *   {"t":"reply-part","id":7,"text":"..."}  a result too large for one frame:
 *       its JSON text in parts, then {"t":"reply","id":7,"ok":true,"parts":N}
 *   {"t":"point","by":"bob","target":"alert:abc"}        highlight, ephemeral
 *   {"t":"bye","reason":"..."}          server closes this client after it */
#ifndef WARROOM_PROTO_H
#define WARROOM_PROTO_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1
/* Largest frame either side accepts. Snapshots are sent in chunks below it. */
#define PROTO_MAX_FRAME (4u * 1024u * 1024u)
/* Largest frame a client may send (intents are small). */
#define PROTO_MAX_CLIENT_FRAME (256u * 1024u)

enum proto_result { PROTO_OK, PROTO_NEED_MORE, PROTO_ERROR };

/* Encodes obj as one frame appended to out (allocated, *outlen set). */
char *proto_encode(const cJSON *obj, size_t *outlen);
/* Looks at buf[0..len): if a whole frame is there, parses it into *obj and
 * sets *consumed. Oversized (> max) or malformed frames give PROTO_ERROR with
 * a reason in err. */
enum proto_result proto_decode(const unsigned char *buf, size_t len, size_t max,
			       cJSON **obj, size_t *consumed, char *err, size_t errlen);

#endif
