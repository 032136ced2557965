// Package s3 stores checkpoints and savepoints in S3-compatible object
// storage (AWS S3, MinIO, Ceph, ...): pass New's Storage in
// weir.CheckpointOptions.Remote, and s3://bucket/prefix checkpoint
// directories, savepoint directories and restore paths work.
//
//	opts.Checkpoints.Dir = "s3://my-bucket/jobs/fraud"
//	opts.Checkpoints.Remote = []checkpoint.Remote{s3.New(s3.Options{Region: "eu-west-1"})}
//
// This package links the AWS SDK; a program that does not import it does
// not. Objects have the names of docs/format/checkpoint.md as keys below
// the prefix. A PUT is atomic, so a checkpoint's _metadata is simply put
// last.
//
// A Storage is safe for concurrent use: it makes its client on first use
// and shares it between every location it opens.
package s3

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
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/weirstream/weir/checkpoint"
)

// Scheme is the URL scheme this package serves.
const Scheme = "s3"

// Options configure access to S3-compatible object storage. The zero value
// uses AWS S3 with the SDK's default configuration: region and credentials
// from the environment, shared config files, or the instance role.
type Options struct {
	// Client is the S3 client to use; when set, the other fields are
	// ignored. Tests inject one pointed at a fake server.
	Client *awss3.Client
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

// Storage opens s3:// checkpoint locations; it implements
// checkpoint.Remote. Make it with New.
type Storage struct {
	opts Options

	mu struct {
		sync.Mutex
		client *awss3.Client // made on first Open
	}
}

// New returns the storage o configures. It does no I/O: the client is
// made, and its configuration loaded, when a job first opens a location.
func New(o Options) *Storage { return &Storage{opts: o} }

// Scheme returns "s3".
func (s *Storage) Scheme() string { return Scheme }

// Open returns the blob store of the objects below prefix in bucket.
func (s *Storage) Open(ctx context.Context, bucket, prefix string) (checkpoint.BlobStore, error) {
	c, err := s.client(ctx)
	if err != nil {
		return nil, err
	}
	return store{client: c, bucket: bucket, prefix: prefix}, nil
}

func (s *Storage) client(ctx context.Context) (*awss3.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.client == nil {
		c, err := s.opts.newClient(ctx)
		if err != nil {
			return nil, err
		}
		s.mu.client = c
	}
	return s.mu.client, nil
}

// newClient makes the client o describes.
func (o *Options) newClient(ctx context.Context) (*awss3.Client, error) {
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
		return nil, fmt.Errorf("s3: config: %w", err)
	}
	if cfg.Region == "" && o.Endpoint != "" {
		cfg.Region = "us-east-1"
	}
	return awss3.NewFromConfig(cfg, func(so *awss3.Options) {
		so.UsePathStyle = o.UsePathStyle
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
			so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	}), nil
}

// store keeps objects under a key prefix of a bucket. A PUT is atomic, so
// Put, Commit and PutFile are alike.
type store struct {
	client *awss3.Client
	bucket string
	prefix string // no trailing slash; "" for the bucket's root
}

// key is the key of object name.
func (s store) key(name string) string {
	switch {
	case s.prefix == "":
		return name
	case name == "":
		return s.prefix
	}
	return s.prefix + "/" + name
}

// dirPrefix is the key prefix of the objects below dir.
func (s store) dirPrefix(dir string) string {
	if p := s.key(dir); p != "" {
		return p + "/"
	}
	return ""
}

func (s store) Location(name string) string {
	if k := s.key(name); k != "" {
		return Scheme + "://" + s.bucket + "/" + k
	}
	return Scheme + "://" + s.bucket
}

// wrap prefixes err and marks a missing object with fs.ErrNotExist.
func (s store) wrap(op, name string, err error) error {
	var re *awshttp.ResponseError
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) || (errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound) {
		return fmt.Errorf("s3: %s %s: %w (%v)", op, s.Location(name), fs.ErrNotExist, err)
	}
	return fmt.Errorf("s3: %s %s: %w", op, s.Location(name), err)
}

func (s store) Put(ctx context.Context, name string, r io.ReadSeeker, size int64) error {
	_, err := s.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.key(name)), Body: r, ContentLength: aws.Int64(size),
	})
	if err != nil {
		return s.wrap("put", name, err)
	}
	return nil
}

func (s store) Commit(ctx context.Context, name string, data []byte) error {
	return s.Put(ctx, name, bytes.NewReader(data), int64(len(data)))
}

func (s store) PutFile(ctx context.Context, name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("s3: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("s3: %w", err)
	}
	return s.Put(ctx, name, f, fi.Size())
}

func (s store) Get(ctx context.Context, name string) (io.ReadCloser, int64, error) {
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key(name))})
	if err != nil {
		return nil, 0, s.wrap("get", name, err)
	}
	return out.Body, aws.ToInt64(out.ContentLength), nil
}

func (s store) GetFile(ctx context.Context, name, path string) error {
	r, _, err := s.Get(ctx, name)
	if err != nil {
		return err
	}
	defer r.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("s3: %w", err)
	}
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("s3: download %s: %w", s.Location(name), err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("s3: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("s3: %w", err)
	}
	return nil
}

func (s store) Stat(ctx context.Context, name string) (int64, error) {
	out, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key(name))})
	if err != nil {
		return 0, s.wrap("stat", name, err)
	}
	return aws.ToInt64(out.ContentLength), nil
}

func (s store) List(ctx context.Context, dir string) ([]checkpoint.BlobInfo, error) {
	prefix := s.dirPrefix(dir)
	var out []checkpoint.BlobInfo
	p := awss3.NewListObjectsV2Paginator(s.client, &awss3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.wrap("list", dir, err)
		}
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), s.dirPrefix(""))
			out = append(out, checkpoint.BlobInfo{Name: name, Size: aws.ToInt64(o.Size)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s store) Dirs(ctx context.Context, dir string) ([]string, error) {
	prefix := s.dirPrefix(dir)
	var out []string
	p := awss3.NewListObjectsV2Paginator(s.client, &awss3.ListObjectsV2Input{
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

func (s store) Delete(ctx context.Context, name string) error {
	_, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key(name))})
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

func (s store) DeleteDir(ctx context.Context, dir string) error {
	if s.dirPrefix(dir) == "" {
		return fmt.Errorf("s3: refusing to delete every object of bucket %s", s.bucket)
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
		out, err := s.client.DeleteObjects(ctx, &awss3.DeleteObjectsInput{
			Bucket: aws.String(s.bucket), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return s.wrap("delete", dir, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("s3: delete %s: %d objects failed, first %s: %s %s", s.Location(dir),
				len(out.Errors), aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
		objs = objs[n:]
	}
	return nil
}

var _ checkpoint.Remote = (*Storage)(nil)
