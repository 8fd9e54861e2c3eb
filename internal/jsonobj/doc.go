// Package jsonobj reads and edits the top level of a JSON object in one pass
// over its bytes, without decoding the document.
//
// Smile ID puts the callback signature and timestamp beside the payload as
// top-level members of a JSON object. Finding them must not be fooled by a
// nested "signature", must understand escaped member names
// ("sig\u006eature"), must notice duplicates, and must still judge the
// whole document exactly as encoding/json does, so that the bytes a handler
// later decodes are the bytes that were checked. Decoding the document into
// maps would do all that at many times the cost; this package does it with
// no allocation.
package jsonobj
