package directory

import "context"

// Do sends one Graph request to path (relative to /graph/v1.0, or an
// absolute URL) as the client's credential: body is sent as JSON when not
// nil and a 2xx answer decoded into out when not nil. Errors are *Error.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	return c.do(ctx, method, path, body, out)
}
