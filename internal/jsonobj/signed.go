package jsonobj

// SignedMembers are the top-level "signature" and "timestamp" members of a
// Smile ID JSON object: the raw value of the last of each, and how many
// there were, so that callers can refuse duplicates.
type SignedMembers struct {
	Signature, Timestamp   []byte
	Signatures, Timestamps int
}

// FindSigned scans doc, which must be exactly one JSON object (see Scan), for
// its top-level "signature" and "timestamp" members, escaped names
// included and nested ones ignored. It does not allocate.
func FindSigned(doc []byte) (SignedMembers, error) {
	var s SignedMembers
	err := Scan(doc, func(m Member) error {
		switch key := m.Key(doc); {
		case KeyEquals(key, "signature"):
			s.Signatures++
			s.Signature = m.Value(doc)
		case KeyEquals(key, "timestamp"):
			s.Timestamps++
			s.Timestamp = m.Value(doc)
		}
		return nil
	})
	if err != nil {
		return SignedMembers{}, err
	}
	return s, nil
}
