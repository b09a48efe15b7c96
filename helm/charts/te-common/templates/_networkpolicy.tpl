{{/*
Inbound traffic only: the serving ports (every port but `ops`) from networkPolicy.servingFrom, the ops
port (/metrics, detailed /readyz) from networkPolicy.metricsFrom. An empty list means from anywhere.
The worker's policy (te-common.worker) admits its ops port only: it serves nothing else.
Kubelet probes come from the node and are not subject to it on common CNIs. Outbound traffic is not limited.
*/}}
{{- define "te-common.networkPolicy" -}}
{{- if .Values.networkPolicy.enabled -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "te-common.workloadName" . }}
  labels:
    {{- include "te-common.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "te-common.selectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
  ingress:
    {{- range $name, $port := .Values.ports }}
    {{- if and (ne $name "ops") (eq (include "te-common.workload" $) "api") }}
    - ports:
        - port: {{ $name }}
          protocol: TCP
      {{- with $.Values.networkPolicy.servingFrom }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
    {{- end }}
    - ports:
        - port: ops
          protocol: TCP
      {{- with .Values.networkPolicy.metricsFrom }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}
{{- end -}}
