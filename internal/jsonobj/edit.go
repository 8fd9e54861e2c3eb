package jsonobj

import "encoding/json"

// Field is a top-level member to set: its name and its raw JSON value.
type Field struct {
	Name  string
	Value []byte
}

// StringField returns a Field whose value is s as a JSON string.
func StringField(name, s string) Field {
	v, _ := json.Marshal(s) // a string always marshals
	return Field{Name: name, Value: v}
}

// Set returns a new document: the object doc with each field set. The first
// member named like a field keeps its place and takes the field's value;
// later members of that name are dropped; fields whose names are absent are
// appended in order. Every other member keeps its bytes and its place.
// Whitespace between members is not kept. Field names must not contain a
// backslash. doc is not modified.
func Set(doc []byte, fields ...Field) ([]byte, error) {
	var members []Member
	if err := Scan(doc, func(m Member) error {
		members = append(members, m)
		return nil
	}); err != nil {
		return nil, err
	}
	extra := 0
	for _, f := range fields {
		extra += len(f.Name) + len(f.Value) + 8
	}
	out := make([]byte, 0, len(doc)+extra)
	out = append(out, '{')
	done := make([]bool, len(fields))
	first := true
	sep := func() {
		if !first {
			out = append(out, ',')
		}
		first = false
	}
	for _, m := range members {
		f := fieldFor(fields, doc[m.KeyStart:m.KeyEnd])
		switch {
		case f < 0:
			sep()
			out = append(out, doc[m.KeyStart:m.ValueEnd]...)
		case !done[f]:
			done[f] = true
			sep()
			out = append(out, doc[m.KeyStart:m.ValueStart]...)
			out = append(out, fields[f].Value...)
		}
	}
	for f, field := range fields {
		if done[f] {
			continue
		}
		sep()
		name, _ := json.Marshal(field.Name)
		out = append(out, name...)
		out = append(out, ':')
		out = append(out, field.Value...)
	}
	return append(out, '}'), nil
}

func fieldFor(fields []Field, rawKey []byte) int {
	for i, f := range fields {
		if KeyEquals(rawKey, f.Name) {
			return i
		}
	}
	return -1
}
