package jsonobj

// SignedMembers are the top-level "signature" and "timestamp" members of a
// Smile ID JSON object: the raw value of the last of each, and how many
// there were, so that callers can refuse duplicates. CaseVariants counts
// the top-level members whose names are neither, yet match one of them as
// encoding/json matches member names to struct fields, case-insensitively
// ("Signature", "TIMESTAMP", "ſignature" with U+017F, escapes decoded): a
// handler decoding the object into a struct would read such a member as
// the signature or timestamp, so callers must refuse them too.
type SignedMembers struct {
	Signature, Timestamp   []byte
	Signatures, Timestamps int
	CaseVariants           int
}

// FindSigned scans doc, which must be exactly one JSON object (see Scan), for
// its top-level "signature" and "timestamp" members, escaped names
// included and nested ones ignored, and counts the members whose names
// differ from those only in case. It does not allocate.
func FindSigned(doc []byte) (SignedMembers, error) {
	var s SignedMembers
	err := Scan(doc, func(m Member) error {
		switch nameOf(m.Key(doc)) {
		case signatureName:
			s.Signatures++
			s.Signature = m.Value(doc)
		case timestampName:
			s.Timestamps++
			s.Timestamp = m.Value(doc)
		case caseVariant:
			s.CaseVariants++
		}
		return nil
	})
	if err != nil {
		return SignedMembers{}, err
	}
	return s, nil
}
