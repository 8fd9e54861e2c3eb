package confirm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
)

// v1Callback is what a body-signed callback says of its job.
type v1Callback struct {
	SmileJobID    string
	ResultCode    string
	ResultText    string
	PartnerParams struct {
		JobID  string `json:"job_id"`
		UserID string `json:"user_id"`
	}
}

// v1Answer is Smile ID's job_status answer.
type v1Answer struct {
	Signature   *string `json:"signature"`
	Timestamp   *string `json:"timestamp"`
	JobComplete bool    `json:"job_complete"`
	Result      *struct {
		SmileJobID    string
		ResultCode    string
		ResultText    string
		PartnerParams struct {
			JobID  string `json:"job_id"`
			UserID string `json:"user_id"`
		}
	} `json:"result"`
}

// jobStatus asks POST /v1/job_status about the body's job.
func (c *Confirmer) jobStatus(ctx context.Context, e endpoint, body []byte) error {
	var cb v1Callback
	if err := json.Unmarshal(body, &cb); err != nil {
		return refuted("the callback's job members are not as Smile ID sends them")
	}
	if cb.PartnerParams.JobID == "" || cb.PartnerParams.UserID == "" {
		return refuted("the callback names no job to ask about")
	}
	question, err := json.Marshal(map[string]any{
		"job_id": cb.PartnerParams.JobID, "user_id": cb.PartnerParams.UserID,
		"image_links": false, "history": false,
	})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.baseURL+"/v1/job_status", bytes.NewReader(question))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	raw, err := ask(e, req)
	if err != nil {
		return err
	}
	var answer v1Answer
	if err := json.Unmarshal(raw, &answer); err != nil {
		return errors.New("confirm: Smile ID's job_status answer is not the JSON object expected")
	}
	// The Transport verified the signature if there was one; an answer
	// without one proves nothing.
	if answer.Signature == nil || answer.Timestamp == nil {
		return errors.New("confirm: Smile ID's job_status answer is not signed (is the client's Transport a signer.Transport with VerifyResponses?)")
	}
	switch r := answer.Result; {
	case !answer.JobComplete || r == nil:
		return refuted("Smile ID has no result for the job yet")
	case r.PartnerParams.JobID != cb.PartnerParams.JobID:
		return refuted("the job id differs")
	case r.PartnerParams.UserID != cb.PartnerParams.UserID:
		return refuted("the user id differs")
	case r.SmileJobID != cb.SmileJobID:
		return refuted("SmileJobID differs")
	case r.ResultCode != cb.ResultCode:
		return refuted("ResultCode differs")
	case r.ResultText != cb.ResultText:
		return refuted("ResultText differs")
	}
	return nil
}
