package checkpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3Options configure checkpoint storage in S3-compatible object storage,
// used when Storage.Dir is an s3://bucket/prefix URL. The zero value uses
// AWS S3 with the SDK's default configuration: region and credentials
// from the environment, shared config files, or the instance role.
type S3Options struct {
	// Client is the S3 client to use; when set, the other fields are
	// ignored. Tests inject one pointed at a fake server.
	Client *s3.Client
	// Endpoint is the base URL of an S3-compatible service (MinIO, Ceph,
	// ...), e.g. "http://localhost:9000"; "" means AWS. With an endpoint,
	// the SDK sends and checks payload checksums only where S3 requires
	// them (Weir checks its own CRC-32C), as many such services need.
	Endpoint string
	// Region is the signing region; "" takes the SDK's default chain,
	// falling back to "us-east-1" when Endpoint is set.
	Region string
	// UsePathStyle addresses buckets as endpoint/bucket/key instead of
	// bucket.endpoint/key, as MinIO-like services usually need.
	UsePathStyle bool
	// AccessKeyID, SecretAccessKey and SessionToken are static
	// credentials; when AccessKeyID is "", the SDK's default credential
	// chain is used.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// newClient makes the client o describes.
func (o *S3Options) newClient(ctx context.Context) (*s3.Client, error) {
	if o.Client != nil {
		return o.Client, nil
	}
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, o.SessionToken)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: s3 config: %w", err)
	}
	if cfg.Region == "" && o.Endpoint != "" {
		cfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		so.UsePathStyle = o.UsePathStyle
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
			so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	}), nil
}

// s3Scheme starts the locations of checkpoints in S3.
const s3Scheme = "s3://"

// isS3 reports whether loc is an s3:// URL.
func isS3(loc string) bool { return strings.HasPrefix(loc, s3Scheme) }

// parseS3 splits s3://bucket/prefix into bucket and prefix (no leading
// or trailing slash). A URL with credentials (s3://key:secret@bucket) is
// refused, and its errors never repeat the credentials.
func parseS3(loc string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(loc, s3Scheme)
	if !ok {
		return "", "", fmt.Errorf("checkpoint: %q is not an s3:// URL", RedactLocation(loc))
	}
	if hasUserinfo(rest) {
		return "", "", fmt.Errorf("checkpoint: %s: credentials in an s3:// URL are not supported "+
			"(they would show in logs, errors and checkpoint metadata); set them in the S3 options", RedactLocation(loc))
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("checkpoint: %q names no bucket", loc)
	}
	return bucket, prefix, nil
}

// hasUserinfo reports whether rest, an s3:// URL without its scheme,
// starts with user information: its first segment, the bucket, holds an
// '@' or ':', which bucket names never do. (A secret may hold '/', so the
// segment can end inside the secret.)
func hasUserinfo(rest string) bool {
	bucket, _, _ := strings.Cut(rest, "/")
	return strings.ContainsAny(bucket, "@:")
}

// RedactLocation returns loc fit for errors and logs: the user information
// of an s3:// URL (s3://key:secret@bucket/prefix) becomes "REDACTED".
// Everything up to the last '@' counts as user information, since a secret
// may hold '/' or '@'; a URL with user information but no '@' is redacted
// whole. Other locations are returned unchanged.
func RedactLocation(loc string) string {
	rest, ok := strings.CutPrefix(loc, s3Scheme)
	if !ok || !hasUserinfo(rest) {
		return loc
	}
	i := strings.LastIndexByte(rest, '@')
	if i < 0 {
		return s3Scheme + "REDACTED"
	}
	return s3Scheme + "REDACTED@" + rest[i+1:]
}

// s3Store keeps objects under a key prefix of a bucket. A PUT is atomic,
// so Put, Commit and PutFile are alike.
type s3Store struct {
	client *s3.Client
	bucket string
	prefix string // no trailing slash; "" for the bucket's root
}

func (s s3Store) key(name string) string { return joinName(s.prefix, name) }

// dirPrefix is the key prefix of the objects below dir.
func (s s3Store) dirPrefix(dir string) string {
	if p := s.key(dir); p != "" {
		return p + "/"
	}
	return ""
}

func (s s3Store) Location(name string) string { return s3Scheme + joinName(s.bucket, s.key(name)) }

// wrap prefixes err and marks a missing object with fs.ErrNotExist.
func (s s3Store) wrap(op, name string, err error) error {
	var re *awshttp.ResponseError
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) || (errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound) {
		return fmt.Errorf("checkpoint: %s %s: %w (%v)", op, s.Location(name), fs.ErrNotExist, err)
	}
	return fmt.Errorf("checkpoint: %s %s: %w", op, s.Location(name), err)
}

func (s s3Store) Put(ctx context.Context, name string, r io.ReadSeeker, size int64) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.key(name)), Body: r, ContentLength: aws.Int64(size),
	})
	if err != nil {
		return s.wrap("put", name, err)
	}
	return nil
}

func (s s3Store) Commit(ctx context.Context, name string, data []byte) error {
	return s.Put(ctx, name, bytes.NewReader(data), int64(len(data)))
}

func (s s3Store) PutFile(ctx context.Context, name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return s.Put(ctx, name, f, fi.Size())
}

func (s s3Store) Get(ctx context.Context, name string) (io.ReadCloser, int64, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key(name))})
	if err != nil {
		return nil, 0, s.wrap("get", name, err)
	}
	return out.Body, aws.ToInt64(out.ContentLength), nil
}

func (s s3Store) GetFile(ctx context.Context, name, path string) error {
	r, _, err := s.Get(ctx, name)
	if err != nil {
		return err
	}
	defer r.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("checkpoint: download %s: %w", s.Location(name), err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

func (s s3Store) Stat(ctx context.Context, name string) (int64, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key(name))})
	if err != nil {
		return 0, s.wrap("stat", name, err)
	}
	return aws.ToInt64(out.ContentLength), nil
}

func (s s3Store) List(ctx context.Context, dir string) ([]blobInfo, error) {
	prefix := s.dirPrefix(dir)
	var out []blobInfo
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.wrap("list", dir, err)
		}
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), s.dirPrefix(""))
			out = append(out, blobInfo{Name: name, Size: aws.ToInt64(o.Size)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s s3Store) Dirs(ctx context.Context, dir string) ([]string, error) {
	prefix := s.dirPrefix(dir)
	var out []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.wrap("list", dir, err)
		}
		for _, cp := range page.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), prefix), "/")
			if name != "" {
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func (s s3Store) Delete(ctx context.Context, name string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key(name))})
	if err != nil {
		if err := s.wrap("delete", name, err); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return s.wrap("delete", name, err)
	}
	return nil
}

// deleteBatch is the most keys one DeleteObjects request takes.
const deleteBatch = 1000

func (s s3Store) DeleteDir(ctx context.Context, dir string) error {
	if s.dirPrefix(dir) == "" {
		return fmt.Errorf("checkpoint: refusing to delete every object of bucket %s", s.bucket)
	}
	objs, err := s.List(ctx, dir)
	if err != nil {
		return err
	}
	for len(objs) > 0 {
		n := min(len(objs), deleteBatch)
		ids := make([]types.ObjectIdentifier, n)
		for i, o := range objs[:n] {
			ids[i] = types.ObjectIdentifier{Key: aws.String(s.key(o.Name))}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(s.bucket), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return s.wrap("delete", dir, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("checkpoint: delete %s: %d objects failed, first %s: %s %s", s.Location(dir),
				len(out.Errors), aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
		objs = objs[n:]
	}
	return nil
}
