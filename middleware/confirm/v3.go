package confirm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
)

// v3Callback is what a v3 webhook says of its job, and v3Answer what GET
// /v3/status answers.
type v3Callback struct {
	JobID  string `json:"job_id"`
	UserID string `json:"user_id"`
	Status string `json:"status"`
}

type v3Answer = v3Callback

// v3Status asks GET /v3/status/{job_id} about the body's job.
func (c *Confirmer) v3Status(ctx context.Context, e endpoint, body []byte) error {
	var cb v3Callback
	if err := json.Unmarshal(body, &cb); err != nil {
		return refuted("the callback's job members are not as Smile ID sends them")
	}
	if cb.JobID == "" {
		return refuted("the callback names no job to ask about")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.baseURL+"/v3/status/"+url.PathEscape(cb.JobID), nil)
	if err != nil {
		return err
	}
	raw, err := ask(e, req)
	if err != nil {
		return err
	}
	var answer v3Answer
	if err := json.Unmarshal(raw, &answer); err != nil {
		return errors.New("confirm: Smile ID's status answer is not the JSON object expected")
	}
	switch {
	case answer.JobID != cb.JobID:
		return refuted("the job id differs")
	case answer.UserID != cb.UserID:
		return refuted("the user id differs")
	case answer.Status != cb.Status:
		return refuted("the status differs")
	}
	return nil
}
