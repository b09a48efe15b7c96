{{/*
The service's Deployment, and through te-common.worker its worker Deployment (same image, ConfigMap,
Secret and ServiceAccount; worker.command; only the ops port). Probes, resources and security contexts
come from values; the pods roll when their configuration changes (checksum/config). No migration here:
the chart's hook Job (te-common.migrationJob) has run before either Deployment changes.
*/}}
{{- define "te-common.deployment" -}}
{{- if and .Values.secretKeys (not .Values.existingSecret) -}}
{{- fail (printf "%s: existingSecret must name the Secret holding %s" .Chart.Name (join ", " .Values.secretKeys)) -}}
{{- end -}}
{{- $config := include "te-common.configData" . | fromYaml -}}
{{- $graceMs := int (default "25000" $config.SHUTDOWN_GRACE_MS) -}}
{{- if le (mul (int .Values.terminationGracePeriodSeconds) 1000) $graceMs -}}
{{- fail (printf "%s: terminationGracePeriodSeconds (%d s) must exceed SHUTDOWN_GRACE_MS (%d ms), or the kubelet kills the process mid-drain" .Chart.Name (int .Values.terminationGracePeriodSeconds) $graceMs) -}}
{{- end -}}
{{- $worker := eq (include "te-common.workload" .) "worker" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "te-common.workloadName" . }}
  labels:
    {{- include "te-common.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "te-common.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "te-common.labels" . | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include "te-common.configData" . | sha256sum }}
        {{- if not .Values.metrics.serviceMonitor.enabled }}
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ .Values.ports.ops.port | quote }}
        prometheus.io/path: /metrics
        {{- end }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "te-common.serviceAccountName" . }}
      automountServiceAccountToken: false
      # No <SERVICE>_PORT / _SERVICE_HOST variables injected next to our own configuration.
      enableServiceLinks: false
      # Must exceed SHUTDOWN_GRACE_MS (counted from SIGTERM, drain delay included).
      terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
      {{- with include "te-common.imagePullSecrets" . }}
      {{- . | nindent 6 }}
      {{- end }}
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      {{- if .Values.topologySpread.enabled }}
      topologySpreadConstraints:
        {{- range .Values.topologySpread.topologyKeys }}
        - maxSkew: {{ $.Values.topologySpread.maxSkew }}
          topologyKey: {{ . }}
          whenUnsatisfiable: {{ $.Values.topologySpread.whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "te-common.selectorLabels" $ | nindent 14 }}
          matchLabelKeys:
            - pod-template-hash
        {{- end }}
      {{- end }}
      {{- with .Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      containers:
        - name: {{ .Chart.Name }}{{ if $worker }}-worker{{ end }}
          image: {{ include "te-common.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          {{- if $worker }}
          # The worker entry point: the work queues only; its gRPC port serves health only, no Service points at it.
          command:
            {{- toYaml .Values.worker.command | nindent 12 }}
          {{- end }}
          ports:
            {{- range $name, $port := .Values.ports }}
            {{- if or (not $worker) (eq $name "ops") }}
            - name: {{ $name }}
              containerPort: {{ $port.port }}
              protocol: TCP
            {{- end }}
            {{- end }}
          envFrom:
            - configMapRef:
                name: {{ include "te-common.fullname" . }}-config
          {{- if or .Values.secretKeys .Values.extraEnv }}
          env:
            {{- range .Values.secretKeys }}
            - name: {{ . }}
              valueFrom:
                secretKeyRef:
                  name: {{ $.Values.existingSecret }}
                  key: {{ . }}
            {{- end }}
            {{- with .Values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- end }}
          startupProbe:
            {{- toYaml .Values.probes.startup | nindent 12 }}
          livenessProbe:
            {{- toYaml .Values.probes.liveness | nindent 12 }}
          readinessProbe:
            {{- toYaml .Values.probes.readiness | nindent 12 }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          volumeMounts:
            {{- include "te-common.tmpVolumeMount" . | nindent 12 }}
      volumes:
        {{- include "te-common.tmpVolume" . | nindent 8 }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}
