// Command etcd is the upstream etcd server, built at the version that
// k8s.io/kubernetes requires (see go.mod). It exists only so that build.sh can
// produce an etcd binary for the real-apiserver test harness.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
