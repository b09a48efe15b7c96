{{/*
Every port of .Values.ports. Backends are headless (service.headless): DNS returns every ready pod and
gRPC clients balance round_robin over `dns:///<service>:<port>` (libs/grpc/src/keepalive.ts).
*/}}
{{- define "te-common.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "te-common.fullname" . }}
  labels:
    {{- include "te-common.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  {{- if .Values.service.headless }}
  clusterIP: None
  {{- end }}
  selector:
    {{- include "te-common.selectorLabels" . | nindent 4 }}
  ports:
    {{- range $name, $port := .Values.ports }}
    - name: {{ $name }}
      port: {{ $port.port }}
      targetPort: {{ $name }}
      appProtocol: {{ $port.appProtocol | default "http" }}
    {{- end }}
{{- end -}}
