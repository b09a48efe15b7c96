{{/*
Names, labels, image and environment shared by every TE-explico service chart.
Every object of a service is named after its chart (user-service, api-gateway, …), not after the
release: addresses such as dns:///user-service:50051 stay the same whether the service comes from its
own release or from the te-explico umbrella. Hence one TE-explico installation per namespace.
*/}}

{{- define "te-common.fullname" -}}
{{- default .Chart.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The workload a template renders: `api` (the chart's own context: the service's API pods) or `worker`
(the context te-common.worker builds: the same chart, the worker's values, `workload: worker`).
*/}}
{{- define "te-common.workload" -}}
{{- get . "workload" | default "api" -}}
{{- end -}}

{{/*
Name of the workload's own objects (Deployment, HPA, PDB, NetworkPolicy): the chart's name, and
<chart>-worker for the worker. The ConfigMap and ServiceAccount are the service's (te-common.fullname),
shared by both.
*/}}
{{- define "te-common.workloadName" -}}
{{- $suffix := ternary "-worker" "" (eq (include "te-common.workload" .) "worker") -}}
{{- printf "%s%s" (include "te-common.fullname" .) $suffix | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The worker's pods have a name label of their own, so the API's Service, PDB and NetworkPolicy never select them. */}}
{{- define "te-common.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}{{ if eq (include "te-common.workload" .) "worker" }}-worker{{ end }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "te-common.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "te-common.selectorLabels" . }}
app.kubernetes.io/version: {{ regexReplaceAll "[^-A-Za-z0-9_.]" (include "te-common.imageTag" .) "_" | trunc 63 | trimAll "-_." | quote }}
app.kubernetes.io/component: {{ .Values.component }}
app.kubernetes.io/part-of: te-explico
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "te-common.global" -}}
{{- toYaml (.Values.global | default dict) -}}
{{- end -}}

{{/* image.tag, else global.image.tag (one tag for a whole umbrella release), else the chart's appVersion. */}}
{{- define "te-common.imageTag" -}}
{{- $global := include "te-common.global" . | fromYaml -}}
{{- .Values.image.tag | default (dig "image" "tag" "" $global) | default .Chart.AppVersion | toString -}}
{{- end -}}

{{/* [global.image.registry/]image.repository, then @image.digest when set, else :tag. */}}
{{- define "te-common.image" -}}
{{- $global := include "te-common.global" . | fromYaml -}}
{{- $registry := dig "image" "registry" "" $global | trimSuffix "/" -}}
{{- $repository := .Values.image.repository -}}
{{- if $registry }}{{ $repository = printf "%s/%s" $registry $repository }}{{ end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (include "te-common.imageTag" .) -}}
{{- end -}}
{{- end -}}

{{- define "te-common.imagePullSecrets" -}}
{{- $global := include "te-common.global" . | fromYaml -}}
{{- $secrets := concat (dig "imagePullSecrets" list $global) (.Values.imagePullSecrets | default list) | uniq -}}
{{- with $secrets -}}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end -}}

{{- define "te-common.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "te-common.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
A value as an environment string. Helm reads YAML numbers as float64, which toString would print as
1e+06; whole numbers are printed as integers instead.
*/}}
{{- define "te-common.envValue" -}}
{{- if kindIs "float64" . -}}
{{- if eq . (floor .) }}{{ printf "%d" (int64 .) }}{{ else }}{{ toString . }}{{ end -}}
{{- else if not (kindIs "invalid" .) -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/*
The ConfigMap's data: every key of .Values.config (global.config wins for the keys a chart declares,
so one umbrella value reaches exactly the services that read it), the port variables from
.Values.ports, SERVICE_VERSION = the image tag, and with worker.enabled each of worker.disableInApi
= "false". The worker processes ignore those switches (they always consume), so one ConfigMap serves both.
*/}}
{{- define "te-common.configData" -}}
{{- $global := include "te-common.global" . | fromYaml -}}
{{- $globalConfig := dig "config" dict $global -}}
{{- $data := dict -}}
{{- range $key, $value := .Values.config -}}
{{- $chosen := ternary (index $globalConfig $key) $value (hasKey $globalConfig $key) -}}
{{- $_ := set $data $key (include "te-common.envValue" $chosen) -}}
{{- end -}}
{{- range $name, $port := .Values.ports -}}
{{- if $port.env }}{{ $_ := set $data $port.env (include "te-common.envValue" $port.port) }}{{ end -}}
{{- end -}}
{{- $_ := set $data "SERVICE_VERSION" (include "te-common.imageTag" .) -}}
{{- /* With a worker Deployment, the API pods leave its queues to it (unless `config` sets the switch). */ -}}
{{- if and (hasKey .Values "worker") .Values.worker.enabled -}}
{{- range .Values.worker.disableInApi -}}
{{- if not (hasKey $.Values.config .) }}{{ $_ := set $data . "false" }}{{ end -}}
{{- end -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}

{{/* The /tmp scratch volume (the root filesystem is read-only), for the service and its migration Job. */}}
{{- define "te-common.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "te-common.tmpVolume" -}}
# The root filesystem is read-only; Node and its libraries get a small scratch /tmp.
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolumeSizeLimit }}
{{- end -}}
