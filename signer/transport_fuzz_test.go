package signer

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzSignBody checks the v1 body rewrite against encoding/json: a body is
// signed exactly when encoding/json reads it as one object; the result is
// then a valid object whose members, in order and byte for byte, are the
// input's with "signature" and "timestamp" replaced where they first stood
// (repeats dropped) and the absent stamped members appended; and its
// signature verifies.
func FuzzSignBody(f *testing.F) {
	for _, seed := range []struct{ body, partnerID string }{
		{`{}`, "085"},
		{`{"user_id":"u1","job_id":"j1","partner_params":{"job_type":5}}`, "1622"},
		{`{"signature":"old","timestamp":"old","partner_id":"085","source_sdk":"rest_api","source_sdk_version":"1"}`, "085"},
		{`{"sig\u006eature":1,"signature":[2],"t\u0069mestamp":{}}`, "7"},
		{`{"smile_client_id":"085","file_name":"a.zip"}`, "085"},
		{`{"partner\u005fid":"x","a":"\ud83d\ude00\ud800\u00e9\/"}`, "partner"},
		{" {\"a\" : [1, 2.5e-3, true, null] ,\n\"b\":{\"signature\":\"nested\"}} ", "1"},
		{"{\"\xff\":\"\xfe\",\"signature\":\"\xff\"}", "1"},
		{`{"a":1,"a":2}`, "1"},
		{`{"a":1}{"b":2}`, "1"},
		{`[{"signature":"x"}]`, "1"},
		{`"{}"`, "1"},
		{`{"a":01}`, "1"},
		{``, "1"},
		{`{"a":"<&>"}`, `<&>"\`},
	} {
		f.Add([]byte(seed.body), seed.partnerID)
	}
	f.Fuzz(func(t *testing.T, body []byte, partnerID string) {
		key := Key{ID: "fuzz", PartnerID: partnerID, APIKey: "fuzz-api-key", Environment: Sandbox}
		s := newTransportState(&Transport{Key: key, SourceSDKVersion: "v1.2.3"})
		if s.err != nil {
			key.PartnerID = "085"
			s = newTransportState(&Transport{Key: key, SourceSDKVersion: "v1.2.3"})
		}
		input := body
		body = append([]byte(nil), body...) // to check it is not modified

		plan, err := planBody(body)
		in, isObject := orderedMembers(body)
		if isObject != (err == nil) {
			t.Fatalf("planBody error %v, but encoding/json object: %v", err, isObject)
		}
		if err != nil {
			if !errors.Is(err, ErrNotJSONObject) {
				t.Fatalf("error %v is not ErrNotJSONObject", err)
			}
			return
		}
		const timestamp = "2026-11-21T10:00:00.000Z"
		out := plan.sign(body, s, timestamp, s.mac.sign(timestamp))
		if !bytes.Equal(body, input) {
			t.Fatalf("the input was modified")
		}
		got, ok := orderedMembers(out)
		if !ok {
			t.Fatalf("result is not one JSON object: %q", out)
		}

		// What the result must hold, in order.
		var want []member
		stamped := map[string]bool{}
		hasPartner := false
		for _, m := range in {
			switch m.name {
			case "signature", "timestamp":
				if !stamped[m.name] {
					want = append(want, member{name: m.name})
				}
				stamped[m.name] = true
				continue
			case "partner_id", "smile_client_id":
				hasPartner = true
			case "source_sdk", "source_sdk_version":
				stamped[m.name] = true
			}
			want = append(want, m)
		}
		if !hasPartner {
			want = append(want, member{name: "partner_id", value: mustMarshal(key.PartnerID)})
		}
		for _, add := range []member{{name: "signature"}, {name: "timestamp"},
			{name: "source_sdk", value: mustMarshal("smileguard-go")}, {name: "source_sdk_version", value: mustMarshal("v1.2.3")}} {
			if !stamped[add.name] {
				want = append(want, add)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("got %d members, want %d:\nin  %q\nout %q", len(got), len(want), body, out)
		}
		for i := range want {
			if got[i].name != want[i].name || (want[i].value != nil && !bytes.Equal(got[i].value, want[i].value)) {
				t.Fatalf("member %d is %q: %s, want %q: %s\nin  %q\nout %q", i, got[i].name, got[i].value, want[i].name, want[i].value, body, out)
			}
		}

		// By name, exactly: a struct would also take "signAtUre".
		var signature, ts string
		for _, m := range got {
			switch m.name {
			case "signature":
				if err := json.Unmarshal(m.value, &signature); err != nil {
					t.Fatalf("signature: %v", err)
				}
			case "timestamp":
				if err := json.Unmarshal(m.value, &ts); err != nil {
					t.Fatalf("timestamp: %v", err)
				}
			}
		}
		if ts != timestamp {
			t.Fatalf("timestamp %q", ts)
		}
		if !Verify(key.APIKey, key.PartnerID, ts, signature) {
			t.Fatalf("signature does not verify")
		}
	})
}

// member is a top-level member as encoding/json reads it: the decoded name
// and the raw value.
type member struct {
	name  string
	value json.RawMessage
}

// orderedMembers returns doc's top-level members in order, and whether doc
// is exactly one JSON object, as encoding/json reads it.
func orderedMembers(doc []byte) ([]member, bool) {
	if !json.Valid(doc) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var m member
		m.name = tok.(string)
		if err := dec.Decode(&m.value); err != nil {
			return nil, false
		}
		members = append(members, m)
	}
	return members, true
}

func mustMarshal(s string) json.RawMessage {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return b
}
