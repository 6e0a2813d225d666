/*
 * agent_proto: the wire protocol between the `agent` target plugin (the
 * client, on the host of the SHIELD core) and shield-agent (the server, on
 * a data host).  Both ends include this header; nothing else here is code.
 *
 * Everything travels inside one TLS connection (TLS 1.2 or later) with
 * mutual authentication: the agent proves itself with its certificate, the
 * caller with a client certificate; both are signed by a CA the other side
 * pins.  One connection carries one request:
 *
 *   caller -> agent  one request line: a JSON object and a newline, at
 *                    most AGENT_PROTO_HEADER_MAX bytes in all:
 *                      {"version": 1, "action": "backup", "plugin": "fs",
 *                       "endpoint": "{\"base_dir\": \"/srv\"}"}
 *                    action is "backup", "restore" or "validate"; plugin
 *                    is a short name in the agent's plugin directory;
 *                    endpoint is that plugin's endpoint (a JSON object, or
 *                    a string holding one).
 *
 * After it, frames both ways.  A frame is a type byte, the payload length
 * as 4 bytes big-endian (at most AGENT_PROTO_FRAME_MAX) and the payload:
 *
 *   caller -> agent  'D' data: the next piece of the restore stream
 *                    'E' end: the restore stream is complete (no payload);
 *                        only then does the plugin see end of input.  A
 *                        connection that closes without it is a truncated
 *                        stream: the plugin is killed, never committed.
 *   agent -> caller  'D' data: the next piece of the backup stream
 *                    'L' log: one line the plugin wrote on stderr
 *                    'X' exit, the last frame: a JSON object
 *                        {"exit": N} with the plugin's exit status (128 +
 *                        the signal if it was killed), plus "error": "why"
 *                        when the agent refused or ended the request.
 *
 * After 'X' the caller closes the connection.  Any other frame type, or a
 * frame that is too long, is a protocol error and ends the connection.
 */
#ifndef SHIELD_AGENT_PROTO_H
#define SHIELD_AGENT_PROTO_H

#define AGENT_PROTO_VERSION	1
#define AGENT_PROTO_PORT	7777		/* the usual agent port */
#define AGENT_PROTO_HEADER_MAX	(256 * 1024)	/* request line, with \n */
#define AGENT_PROTO_FRAME_MAX	(256 * 1024)	/* one frame's payload */
#define AGENT_PROTO_FRAME_HEAD	5		/* type + 4-byte length */

#define AGENT_PROTO_DATA	'D'
#define AGENT_PROTO_END		'E'
#define AGENT_PROTO_LOG		'L'
#define AGENT_PROTO_EXIT	'X'

#endif
